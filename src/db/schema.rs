//! The tables, in types both backends share. Timestamps are `Timestamp` holding UTC
//! (`chrono::NaiveDateTime` in Rust): SQLite has no time zone type, so neither do we.
//! Only `repo.rs` files and `db` itself use this module.

diesel::table! {
    /// Key/value settings the program generates and keeps, e.g. the JWT signing key.
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        username_key -> Text,
        email -> Text,
        email_key -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        banned_at -> Nullable<Timestamp>,
        banned_until -> Nullable<Timestamp>,
        ban_reason -> Nullable<Text>,
        comments_count -> BigInt,
        created_at -> Timestamp,
        erased_at -> Nullable<Timestamp>,
        language -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        dedup_key -> Text,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        list_unsubscribe -> Nullable<Text>,
        subscriber_id -> Nullable<BigInt>,
        digest_day -> Nullable<Text>,
        secret -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    refresh_tokens,
    password_resets,
    outbox,
    settings
);

diesel::table! {
    discussions (id) {
        id -> BigInt,
        kind -> Text,
        title -> Text,
        body -> Nullable<Text>,
        body_html -> Nullable<Text>,
        author_id -> Nullable<BigInt>,
        article_slug -> Nullable<Text>,
        views -> BigInt,
        replies -> BigInt,
        pinned -> Bool,
        locked -> Bool,
        visible_from -> Timestamp,
        created_at -> Timestamp,
        last_activity_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        thread_version -> BigInt,
        premoderated -> Bool,
        pending -> BigInt,
    }
}

diesel::table! {
    articles (id) {
        id -> BigInt,
        discussion_id -> BigInt,
        slug -> Text,
        title -> Text,
        lead -> Text,
        body -> Text,
        dateline -> Nullable<Text>,
        source -> Nullable<Text>,
        image_url -> Nullable<Text>,
        image_credit -> Nullable<Text>,
        rights_notice -> Nullable<Text>,
        author_id -> Nullable<BigInt>,
        published_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_tags (article_id, tag_key) {
        article_id -> BigInt,
        tag -> Text,
        tag_key -> Text,
    }
}

diesel::joinable!(discussions -> users (author_id));
diesel::joinable!(articles -> discussions (discussion_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::allow_tables_to_appear_in_same_query!(discussions, articles, article_tags, users);

diesel::table! {
    /// A comment in a discussion's tree; see the migration for `path`.
    comments (id) {
        id -> BigInt,
        discussion_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        depth -> Integer,
        path -> Text,
        author_id -> Nullable<BigInt>,
        body -> Nullable<Text>,
        body_html -> Nullable<Text>,
        status -> Text,
        score -> BigInt,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    comment_votes (comment_id, user_id) {
        comment_id -> BigInt,
        user_id -> BigInt,
        value -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comment_reports (id) {
        id -> BigInt,
        comment_id -> BigInt,
        reporter_id -> BigInt,
        reason -> Text,
        status -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<BigInt>,
        resolution -> Nullable<Text>,
    }
}

diesel::joinable!(comments -> discussions (discussion_id));
diesel::joinable!(comments -> users (author_id));
diesel::joinable!(comment_votes -> comments (comment_id));
diesel::joinable!(comment_reports -> comments (comment_id));
diesel::allow_tables_to_appear_in_same_query!(comments, comment_votes, comment_reports);
diesel::allow_tables_to_appear_in_same_query!(comments, discussions);
diesel::allow_tables_to_appear_in_same_query!(comments, users);
diesel::allow_tables_to_appear_in_same_query!(comment_votes, users);
diesel::allow_tables_to_appear_in_same_query!(comment_reports, users);

diesel::table! {
    /// Newsletter subscribers; see the migration for the columns' meaning.
    newsletter_subscribers (id) {
        id -> BigInt,
        email -> Text,
        email_key -> Text,
        status -> Text,
        user_id -> Nullable<BigInt>,
        pending_user_id -> Nullable<BigInt>,
        confirm_token_hash -> Nullable<Text>,
        confirm_expires_at -> Nullable<Timestamp>,
        confirm_sent_at -> Nullable<Timestamp>,
        unsubscribe_token -> Text,
        bounces -> Integer,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        unsubscribed_at -> Nullable<Timestamp>,
        confirm_user_id -> Nullable<BigInt>,
        confirm_count -> Integer,
        confirm_window_at -> Nullable<Timestamp>,
        language -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(newsletter_subscribers, users);

diesel::table! {
    newsletter_digests (day) {
        day -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        articles -> Integer,
        enqueued -> BigInt,
    }
}

diesel::table! {
    /// Moderation and admin actions, append-only.
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        target_type -> Text,
        target_id -> BigInt,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
        previous -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(audit_log, users);
diesel::allow_tables_to_appear_in_same_query!(audit_log, comments);
diesel::allow_tables_to_appear_in_same_query!(audit_log, discussions);

diesel::table! {
    /// Views counted today, site-wide (see `discussions::views`).
    view_marks (discussion_id, day, viewer) {
        discussion_id -> BigInt,
        day -> Text,
        viewer -> Text,
    }
}

diesel::table! {
    /// Rate limits shared by every process (see `ratelimit`). Times are Unix seconds.
    rate_counters (key) {
        key -> Text,
        window_start -> BigInt,
        hits -> BigInt,
        prev_hits -> BigInt,
        last_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    /// Full-text search documents (see `search`); PostgreSQL also has a generated `terms`
    /// tsvector and SQLite an FTS5 table `search_fts`, both used through SQL in `search::repo`.
    search_documents (id) {
        id -> BigInt,
        kind -> Text,
        discussion_id -> BigInt,
        comment_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        title_terms -> Text,
        body_terms -> Text,
    }
}

diesel::table! {
    /// A reader's notifications (see `notifications` and the migration for the columns).
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        actor_id -> Nullable<BigInt>,
        comment_id -> BigInt,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        mail -> Nullable<Text>,
    }
}

diesel::table! {
    /// A reader's notification mail choices and pacing.
    notification_settings (user_id) {
        user_id -> BigInt,
        replies -> Text,
        mentions -> Text,
        unsubscribe_token -> Text,
        last_mailed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Who muted whom.
    mutes (user_id, muted_id) {
        user_id -> BigInt,
        muted_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Single-use tickets that open a reader's own live stream.
    stream_tickets (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(notifications -> comments (comment_id));
diesel::joinable!(notification_settings -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(notifications, notification_settings, mutes);
diesel::allow_tables_to_appear_in_same_query!(notifications, comments);
diesel::allow_tables_to_appear_in_same_query!(notifications, discussions);
diesel::allow_tables_to_appear_in_same_query!(notifications, users);
diesel::allow_tables_to_appear_in_same_query!(notification_settings, comments);
diesel::allow_tables_to_appear_in_same_query!(notification_settings, discussions);
diesel::allow_tables_to_appear_in_same_query!(notification_settings, users);
diesel::allow_tables_to_appear_in_same_query!(mutes, comments);
diesel::allow_tables_to_appear_in_same_query!(mutes, discussions);
diesel::allow_tables_to_appear_in_same_query!(mutes, users);

diesel::table! {
    /// Admins' word rules for comments and topics (premoderation).
    word_rules (id) {
        id -> BigInt,
        phrase -> Text,
        folded -> Text,
        action -> Text,
        reason -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Why a comment was held for a moderator, and the decision.
    comment_holds (comment_id) {
        comment_id -> BigInt,
        author_id -> Nullable<BigInt>,
        reason -> Text,
        rule_id -> Nullable<BigInt>,
        detail -> Nullable<Text>,
        held_at -> Timestamp,
        decision -> Nullable<Text>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(comment_holds -> comments (comment_id));
diesel::allow_tables_to_appear_in_same_query!(comment_holds, comments);
diesel::allow_tables_to_appear_in_same_query!(comment_holds, users);
diesel::allow_tables_to_appear_in_same_query!(comment_holds, discussions);

diesel::table! {
    /// What each record of an imported export became here (see `import`).
    import_keys (source, kind, external_id) {
        source -> Text,
        kind -> Text,
        external_id -> Text,
        local_id -> Nullable<BigInt>,
        data -> Nullable<Text>,
    }
}
