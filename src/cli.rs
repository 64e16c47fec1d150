//! The `tribune` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::accounts::dto::RegisterRequest;
use crate::accounts::{NewAccount, create_account};
use crate::auth::Role;
use crate::auth::password::Hasher;
use crate::config::Settings;
use crate::db::{Checkpoints::OnCommit, Db, connect, run_migrations};
use crate::error::ApiError;
use crate::startup::Application;
use crate::telemetry::init_logging;

#[derive(Parser)]
#[command(
    name = "tribune",
    version,
    about = "The community backend of a news site"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run pending migrations, then serve HTTP (the default).
    Serve,
    /// Run pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document (YAML).
    Openapi,
    /// Fill the database with generated users, articles, topics and comment threads (demo,
    /// benchmarks). With `--discussions 0`, comments go to the discussions already there.
    Seed {
        #[arg(long, default_value_t = 50)]
        users: u32,
        #[arg(long, default_value_t = 1000)]
        discussions: u32,
        #[arg(long, default_value_t = 5000)]
        comments: u64,
        /// Confirmed newsletter subscribers (for the digest benchmark).
        #[arg(long, default_value_t = 0)]
        subscribers: u64,
        /// Seed even a database that has accounts of its own. Every seeded account has the
        /// same published password: never on a site people use.
        #[arg(long)]
        force: bool,
    },
    /// Remove what is past its retention now: ended sessions, used and expired tokens, old
    /// sent mail, spent rate counters (`serve` does it every hour).
    Purge,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The newsletter.
    Newsletter {
        #[command(subcommand)]
        command: NewsletterCommand,
    },
    /// Import an existing site's comments from its vendor's export (see `docs/import.md`).
    /// Running it again adds nothing; after a stop, it finishes the job.
    Import {
        #[command(subcommand)]
        vendor: ImportVendor,
    },
    /// Full-text search.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
}

#[derive(Subcommand)]
pub enum ImportVendor {
    /// Disqus' XML export.
    Disqus(ImportArgs),
    /// WordPress' WXR export (Tools, Export), with its comments.
    Wordpress(ImportArgs),
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The export file.
    pub file: std::path::PathBuf,
    /// A CSV file of `thread,slug` rows for threads whose address matches no article's slug
    /// (a thread's address, old identifier or export id; an article's slug).
    #[arg(long)]
    pub map: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
pub enum SearchCommand {
    /// Build the search index again from every article, topic and comment (after a restore
    /// from a backup that left it behind, or a change of the analysis). Searches meanwhile
    /// find what is indexed so far; writes go on.
    Reindex,
}

#[derive(Subcommand)]
pub enum NewsletterCommand {
    /// Enqueue the daily digest of a day (today, UTC, by default) for every confirmed
    /// subscriber, then send what is due. Running it again sends nothing twice.
    SendDigest {
        /// The digest's day, YYYY-MM-DD: the news of the 24 hours before TRIBUNE_DIGEST_HOUR
        /// that day.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Only write the mails into the outbox; a running server's worker sends them.
        #[arg(long)]
        enqueue_only: bool,
    },
    /// Write the digest of a day (today, UTC, by default) as `digest-DAY-LANG.html` and `.txt`
    /// files, for an editor to look at before it goes out. Sends nothing.
    Preview {
        /// The digest's day, YYYY-MM-DD.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Its language: `en` or `ru` (default: TRIBUNE_DEFAULT_LANGUAGE).
        #[arg(long)]
        lang: Option<String>,
        /// Where the files go.
        #[arg(long, default_value = ".")]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account. The password comes from TRIBUNE_PASSWORD, or is asked for.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// user, editor, moderator or admin.
        #[arg(long, default_value = "user")]
        role: String,
        /// Defaults to the username.
        #[arg(long)]
        display_name: Option<String>,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        print!("{}", crate::openapi::yaml());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("tribune: bad configuration: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings);
    let result = match command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    email,
                    role,
                    display_name,
                },
        } => create_user(settings, username, email, role, display_name),
        Command::Seed {
            users,
            discussions,
            comments,
            subscribers,
            force,
        } => seed(
            settings,
            SeedRun {
                users,
                discussions,
                comments,
                subscribers,
                force,
            },
        ),
        Command::Purge => purge(settings),
        Command::Newsletter {
            command: NewsletterCommand::SendDigest { date, enqueue_only },
        } => send_digest(settings, date, enqueue_only),
        Command::Newsletter {
            command: NewsletterCommand::Preview { date, lang, out },
        } => preview_digest(&settings, date, lang.as_deref(), &out),
        Command::Search {
            command: SearchCommand::Reindex,
        } => reindex(&settings),
        Command::Import { vendor } => import(&settings, vendor),
        Command::Openapi => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "stopped on an error");
            eprintln!("tribune: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn purge(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let db = actix_web::rt::task::spawn_blocking({
            let settings = settings.clone();
            move || Db::connect_and_migrate(&settings.database, 1, settings.db_timeout, OnCommit)
        })
        .await??;
        let purged = db
            .run(move |conn| crate::retention::purge(conn, &settings))
            .await
            .map_err(explain)?;
        println!(
            "purged {} sessions, {} tokens, {} mails, {} confirmations, {} rate counters, \
             {} view marks, {} notifications, {} stream tickets; released {} usernames",
            purged.sessions,
            purged.tokens,
            purged.mails,
            purged.confirmations,
            purged.rate_counters,
            purged.view_marks,
            purged.notifications,
            purged.stream_tickets,
            purged.usernames_released
        );
        Ok(())
    })
}

fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = connect(&settings.database)?;
    let applied = run_migrations(&mut conn)?;
    tracing::info!(count = applied.len(), "migrations done");
    if let Some(count) = crate::search::build_if_asked(&mut conn)? {
        tracing::info!(documents = count, "search index built");
    }
    Ok(())
}

fn import(settings: &Settings, vendor: ImportVendor) -> anyhow::Result<()> {
    use crate::import::Vendor;
    let (vendor, args) = match vendor {
        ImportVendor::Disqus(args) => (Vendor::Disqus, args),
        ImportVendor::Wordpress(args) => (Vendor::Wordpress, args),
    };
    let mut conn = connect(&settings.database)?;
    run_migrations(&mut conn)?;
    let started = std::time::Instant::now();
    let outcome = crate::import::run(&mut conn, vendor, &args.file, args.map.as_deref());
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(summary) => {
            println!("{summary}\ndone in {seconds:.1} s");
            Ok(())
        }
        Err((error, summary)) => {
            println!("{summary}\nstopped after {seconds:.1} s");
            Err(error)
        }
    }
}

fn reindex(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = connect(&settings.database)?;
    run_migrations(&mut conn)?;
    let started = std::time::Instant::now();
    let count = crate::search::reindex(&mut conn)?;
    println!(
        "indexed {count} documents for search in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn create_user(
    settings: Settings,
    username: String,
    email: String,
    role: String,
    display_name: Option<String>,
) -> anyhow::Result<()> {
    let role = Role::parse(&role)
        .ok_or_else(|| anyhow::anyhow!("--role must be user, editor, moderator or admin"))?;
    let password = match std::env::var("TRIBUNE_PASSWORD") {
        Ok(password) if !password.is_empty() => password,
        _ => {
            let password = rpassword::prompt_password("Password: ")?;
            if rpassword::prompt_password("Password again: ")? != password {
                anyhow::bail!("the passwords differ");
            }
            password
        }
    };
    actix_web::rt::System::new().block_on(async move {
        let db = actix_web::rt::task::spawn_blocking(move || {
            Db::connect_and_migrate(&settings.database, 1, settings.db_timeout, OnCommit)
        })
        .await??;
        let account = NewAccount {
            request: RegisterRequest {
                username,
                email,
                password,
                display_name,
            },
            role,
        };
        let user = create_account(&db, &Hasher::new(1), account)
            .await
            .map_err(explain)?;
        println!(
            "created {} (id {}, role {})",
            user.username,
            user.id,
            user.role.as_str()
        );
        Ok(())
    })
}

/// An `ApiError` said for a person at a terminal.
fn explain(error: ApiError) -> anyhow::Error {
    match error {
        ApiError::Validation(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|(field, messages)| format!("{field} {}", messages.join("; ")))
                .collect();
            anyhow::anyhow!("{}", lines.join("\n"))
        }
        ApiError::Conflict { field } => anyhow::anyhow!("{field} is already taken"),
        ApiError::Internal(cause) | ApiError::Unavailable(cause) => cause,
        other => anyhow::anyhow!("{other}"),
    }
}

fn preview_digest(
    settings: &Settings,
    date: Option<chrono::NaiveDate>,
    lang: Option<&str>,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::newsletter::digest;
    let day = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let lang = match lang {
        Some(code) => crate::i18n::Lang::parse(code)
            .ok_or_else(|| anyhow::anyhow!("--lang must be `en` or `ru`, not `{code}`"))?,
        None => settings.default_language,
    };
    crate::templates::init(settings.template_dir.as_deref())?;
    let site = crate::site::Site::from_settings(settings);
    let mut conn = connect(&settings.database)?;
    run_migrations(&mut conn)?;
    let (articles, discussions) =
        digest::news_of(&mut conn, day, settings.digest_hour).map_err(explain)?;
    if articles.is_empty() {
        println!("no article was published for the digest of {day}: it would not go out");
    }
    let content = digest::compose(&articles, &discussions, day, &site, lang)
        .map_err(explain)?
        .for_preview(&site);
    std::fs::create_dir_all(out)?;
    for (ext, body) in [("html", &content.html), ("txt", &content.text)] {
        let path = out.join(format!("digest-{day}-{}.{ext}", lang.as_str()));
        std::fs::write(&path, body)?;
        println!("{}", path.display());
    }
    println!("subject: {}", content.subject);
    Ok(())
}

fn send_digest(
    settings: Settings,
    date: Option<chrono::NaiveDate>,
    enqueue_only: bool,
) -> anyhow::Result<()> {
    let day = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    actix_web::rt::System::new().block_on(async move {
        let mailer = std::sync::Arc::new(
            crate::mail::Mailer::from_settings(&settings)?
                .with_recipients(std::sync::Arc::new(crate::newsletter::Subscribers)),
        );
        let (target, timeout) = (settings.database.clone(), settings.db_timeout);
        let db = actix_web::rt::task::spawn_blocking(move || {
            Db::connect_and_migrate(&target, 2, timeout, OnCommit)
        })
        .await??;
        crate::templates::init(settings.template_dir.as_deref())?;
        let (hour, site) = (
            settings.digest_hour,
            crate::site::Site::from_settings(&settings),
        );
        let started = std::time::Instant::now();
        let run = db
            .run(move |conn| crate::newsletter::digest::enqueue_digest(conn, day, hour, &site))
            .await
            .map_err(explain)?;
        let enqueued_in = started.elapsed().as_secs_f64();
        println!(
            "digest of {day}: {} articles, {} mails enqueued now (in {enqueued_in:.1} s)",
            run.articles, run.enqueued
        );
        if !enqueue_only {
            let tried = crate::mail::drain(&db, mailer, settings.mail_rate)
                .await
                .map_err(explain)?;
            println!("{tried} mails sent or tried");
        }
        Ok(())
    })
}

/// What `tribune seed` was asked for.
struct SeedRun {
    users: u32,
    discussions: u32,
    comments: u64,
    subscribers: u64,
    force: bool,
}

fn seed(settings: Settings, run: SeedRun) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let db = actix_web::rt::task::spawn_blocking(move || {
            Db::connect_and_migrate(&settings.database, 2, settings.db_timeout, OnCommit)
        })
        .await??;
        let own = crate::seed::own_accounts(&db).await.map_err(explain)?;
        if own > 0 && !run.force {
            anyhow::bail!(
                "this database has {own} accounts of its own; seeded accounts all share one \
                 published password, so seed only a demo or benchmark database (or pass --force)"
            );
        }
        let started = std::time::Instant::now();
        let seeded = crate::seed::seed(
            &db,
            &Hasher::new(1),
            run.users,
            run.discussions,
            run.comments,
            run.subscribers,
        )
        .await
        .map_err(explain)?;
        println!(
            "seeded {} users, {} discussions, {} comments and {} subscribers in {:.1} s \
             (password of every seeded account: {})",
            seeded.users,
            seeded.discussions,
            seeded.comments,
            seeded.subscribers,
            started.elapsed().as_secs_f64(),
            crate::seed::SEED_PASSWORD
        );
        if let Some((id, count)) = seeded.largest_thread {
            println!("largest thread: discussion {id} with {count} comments");
        }
        // Seeding writes in bulk, past the writers that index: index it all once.
        let started = std::time::Instant::now();
        let indexed = db
            .run(|conn| crate::search::reindex(conn).map_err(ApiError::internal))
            .await
            .map_err(explain)?;
        println!(
            "indexed {indexed} documents for search in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
}
