//! Tribune: the community backend of a news site.
//!
//! A guided tour, one line a module:

/// Accounts and sessions: register, login, tokens, password reset, `/me`, profiles.
pub mod accounts;
/// Articles (the news): editors' create, update, delete; the list and one article.
pub mod articles;
/// Password hashing, access and refresh tokens, roles, and the `AuthUser`/`ActiveUser` extractors.
pub mod auth;
/// Command-line interface: `serve`, `migrate`, `openapi`, `user create`, `seed`,
/// `newsletter send-digest`, `purge`.
pub mod cli;
/// Comment threads: nested replies, Markdown, edits, deletion, votes and reports (split by
/// concern: thread, paging, posting, policy).
pub mod comments;
/// Settings from the environment and an optional `tribune.toml`, each declared once
/// (`config/declared.rs`), validated at start.
pub mod config;
/// The moderators' console: a page at `/console/` over the admin API, its files embedded.
pub mod console;
/// The database: one connection type over SQLite and PostgreSQL, the pool, its health probe,
/// migrations, schema.
pub mod db;
/// Discussions: the feed by last activity, topics, view and reply counters, live updates (SSE).
pub mod discussions;
/// `ApiError`, the one error type, rendered as `application/problem+json`.
pub mod error;
/// Our JSON body extractor: content type, size limit and field-naming errors.
pub mod extract;
/// Texts of mail and pages in English and Russian (Fluent), plural forms and dates.
pub mod i18n;
/// Typed ids for the signatures where two kinds of id meet.
pub mod ids;
/// `tribune import disqus|wordpress`: another system's comments, streamed in batches, idempotent.
pub mod import;
/// The mail outbox and its sending worker (SMTP, or `.eml` files), claims renewed while alive.
pub mod mail;
/// Markdown to sanitized HTML (pulldown-cmark + ammonia).
pub mod markdown;
/// Moderation: the report queue, hiding, locks, pins, topic deletion, bans, roles, the audit log.
pub mod moderation;
/// The newsletter: double opt-in subscriptions, confirmation and unsubscription, the daily
/// digest and its scheduler.
pub mod newsletter;
/// Notifications: the inbox, the reader's own live stream, batched mail, mutes.
pub mod notifications;
/// The OpenAPI document, generated from the handlers.
pub mod openapi;
/// Operational endpoints: `/healthz`, `/readyz`, `/metrics`, `/api-spec/openapi.yaml`.
pub mod ops;
/// Serialized pages kept in memory by the state they show, each built once at a time.
pub mod page_cache;
/// Tribune's own small HTML pages (what its mails' links open).
pub mod pages;
/// `?limit=`, opaque keyset cursors, and ETags for lists.
pub mod pagination;
/// Premoderation: word rules, holds for new and risky writers, the moderators' queue.
pub mod premoderation;
/// A reader's data: the export of everything held about them, and erasure of their account.
pub mod privacy;
/// The client's address (through trusted proxies) and every rate limit, counted in the database.
pub mod ratelimit;
/// What is kept for how long: the hourly purge of `serve` and `tribune purge`.
pub mod retention;
/// Full-text search over articles, topics and comments (Russian and English word forms).
pub mod search;
/// `tribune seed`: generated demo and benchmark data, inserted in bulk.
pub mod seed;
/// The site: its name, logo and the link templates of its own pages.
pub mod site;
/// `Application::build`: the bound server and its background work; used by the tests too.
pub mod startup;
/// Logging (tracing), request ids and Prometheus metrics.
pub mod telemetry;
/// Mail templates (minijinja), built in or the site's own.
pub mod templates;
/// Timestamps written to JSON without going through `fmt`.
pub mod timestamp;
/// Field rules several features share.
pub mod validation;
