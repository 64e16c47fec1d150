//! `Application::build`: settings in, a bound server (and its background work) out.
//! `tribune serve` and every test start the server through it, so the tests run the real thing.

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, Next, from_fn};
use actix_web::{App, Error, HttpRequest, HttpServer, web};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::password::Hasher;
use crate::auth::tokens::TokenKeys;
use crate::comments::ThreadPages;
use crate::config::{DatabaseTarget, Secret, Settings};
use crate::db::{Checkpoints, Db, setting_or_insert};
use crate::discussions::feed_cache::FeedCache;
use crate::discussions::live::{Live, StreamSlots};
use crate::discussions::readers::Readers;
use crate::discussions::views::ViewCounter;
use crate::error::{ApiError, problem_json_for_all_errors};
use crate::extract::BodyLimit;
use crate::mail::{Mailer, Outbox};
use crate::notifications::MuteCache;
use crate::openapi::{KnownRoutes, SpecYaml};
use crate::premoderation::Premoderation;
use crate::ratelimit::{RateLimits, TrustedProxies};
use crate::telemetry::{Metrics, RequestSpan, observe};

/// Every route of the API: each feature's table, in one place. `openapi::document` reads the
/// same function, so the served routes and the document cannot differ.
///
/// The router tries the routes in this order, each path with a `{segment}` through a regular
/// expression (the `regex` crate's, by actix-web's `unicode` feature: regex-lite's was 6 % of
/// a thread page's time): the most read (the feed, threads) come first. No two features'
/// paths overlap, so the order changes only how fast a request finds its route.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(crate::ops::routes)
        .configure(crate::discussions::routes)
        .configure(crate::comments::routes)
        .configure(crate::accounts::routes)
        .configure(crate::articles::routes)
        .configure(crate::newsletter::routes)
        .configure(crate::moderation::routes)
        .configure(crate::premoderation::routes)
        .configure(crate::search::routes)
        .configure(crate::notifications::routes)
        .configure(crate::privacy::routes)
        .configure(crate::console::routes);
}

/// A request unanswered after this long gets a `503`, so that no request holds a worker for
/// ever.
#[derive(Clone, Copy)]
struct RequestTimeout(Duration);

pub struct Application {
    port: u16,
    server: Server,
    /// Tells background work to finish up, once the server has stopped.
    shutdown: watch::Sender<bool>,
    /// Tells long-lived responses (event streams) to end, as the server begins to stop.
    closing: watch::Sender<bool>,
    /// Background work to wait for after the server stops.
    workers: Vec<JoinHandle<()>>,
    signals: StopSignals,
}

impl Application {
    /// Connects to the database, runs pending migrations, binds the listener. The server runs
    /// when [`Application::run_until_stopped`] is awaited.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        crate::templates::init(settings.template_dir.as_deref())?;
        let db = connect(&settings).await?;
        let jwt_secret = jwt_secret(&settings, &db).await?;
        let token_keys = web::Data::new(TokenKeys::new(
            &jwt_secret,
            settings.jwt_algorithm,
            &settings.public_url,
        ));
        // Password hashes may use all cores but one: a login flood then leaves a core for
        // everything else (see docs/benchmarks.md).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hasher = web::Data::new(Hasher::new(cores.saturating_sub(1).max(1)));
        let rate_limits = web::Data::new(RateLimits::from_settings(&settings));
        let trusted_proxies = web::Data::new(TrustedProxies(settings.trusted_proxies.clone()));
        let outbox = web::Data::new(Outbox::default());
        let mailer = mailer(&settings, &db).await?;

        let (shutdown, shutdown_rx) = watch::channel(false);
        let (closing, closing_rx) = watch::channel(false);
        let feed_cache = web::Data::new(FeedCache::new(settings.feed_cache));
        let (outgoing, notify_queue) = match settings.database {
            DatabaseTarget::Postgres(_) => {
                let (sender, receiver) = Live::queue();
                (Some(sender), Some(receiver))
            }
            DatabaseTarget::Sqlite(_) => (None, None),
        };
        let live = web::Data::new(Live::new(
            closing_rx,
            feed_cache.clone().into_inner(),
            outgoing,
        ));
        let salt = crate::auth::tokens::random_token();
        let salt = db
            .run(move |conn| Ok(setting_or_insert(conn, "view_salt", &salt)?))
            .await?;
        let readers = Readers::load(settings.crawler_patterns.as_deref())?;
        let views = web::Data::new(ViewCounter::new(salt, readers, settings.view_counting));
        let workers = spawn_workers(Background {
            settings: &settings,
            db: &db,
            views: &views,
            live: &live,
            mailer,
            outbox: &outbox,
            notify_queue,
            shutdown: shutdown_rx,
        });

        let api = crate::openapi::document();
        let spec = web::Data::new(SpecYaml(api.to_yaml()?));
        let known_routes = web::Data::new(KnownRoutes::from_document(&api));
        let metrics = web::Data::new(Metrics::new(settings.db_pool_size));
        let stream_slots = web::Data::new(StreamSlots::new(
            settings.streams_per_client,
            settings.streams_max,
            settings.stream_lifetime,
            metrics.live_streams(),
        ));
        let shared = Shared {
            db: web::Data::new(db.clone()),
            metrics,
            spec,
            known_routes,
            token_keys,
            hasher,
            rate_limits,
            trusted_proxies,
            outbox,
            settings: web::Data::new(settings.clone()),
            live,
            stream_slots,
            feed_cache,
            thread_pages: web::Data::new(ThreadPages::new(settings.thread_cache_bytes)),
            mutes: web::Data::new(MuteCache::default()),
            premoderation: web::Data::new(Premoderation::new(&settings)),
            views,
        };
        let signals = StopSignals::install()?;
        let listener = TcpListener::bind(settings.listen_addr()?)?;
        let address = listener.local_addr()?;
        let server = http_server(shared, &settings, listener)?;
        tracing::info!(%address, "listening");
        Ok(Application {
            port: address.port(),
            server,
            shutdown,
            closing,
            workers,
            signals,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from outside (tests; signals are handled by the server itself).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until a signal (or the handle) stops the server; requests in flight finish
    /// first, then background work is flushed.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let closing = self.closing;
        let stop_signals = self.signals;
        let signals = actix_web::rt::spawn(async move {
            stop_signals.recv().await;
            tracing::info!("stopping: finishing requests in flight");
            let _ = closing.send(true);
            handle.stop(true).await;
        });
        let served = self.server.await;
        signals.abort();
        let _ = self.shutdown.send(true);
        for worker in self.workers {
            if tokio::time::timeout(Duration::from_secs(30), worker)
                .await
                .is_err()
            {
                tracing::warn!("background work did not finish within 30 s");
            }
        }
        tracing::info!("server stopped");
        served
    }
}

/// SIGTERM and SIGINT (Ctrl-C), listened for from `build` on: a signal that comes before the
/// server runs is not lost, and never kills the process with requests in flight.
struct StopSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn recv(mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}

/// The database, migrated, with its pool.
async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    let (target, size, timeout) = (
        settings.database.clone(),
        settings.db_pool_size,
        settings.db_timeout,
    );
    let db = actix_web::rt::task::spawn_blocking(move || {
        Db::connect_and_migrate(&target, size, timeout, Checkpoints::Background)
    })
    .await??;
    tracing::info!(database = %settings.database.describe(), "database ready");
    Ok(db)
}

/// The mailer; on SQLite, the mails a stopped process was sending are taken over in the
/// background.
async fn mailer(settings: &Settings, db: &Db) -> anyhow::Result<Arc<Mailer>> {
    actix_web::rt::spawn(crate::mail::take_over_stale_claims(db.clone()));
    Ok(Arc::new(
        Mailer::from_settings(settings)?.with_recipients(Arc::new(crate::newsletter::Subscribers)),
    ))
}

/// What a starting server's background tasks need.
struct Background<'a> {
    settings: &'a Settings,
    db: &'a Db,
    views: &'a web::Data<ViewCounter>,
    live: &'a web::Data<Live>,
    mailer: Arc<Mailer>,
    outbox: &'a web::Data<Outbox>,
    /// PostgreSQL: the live events waiting for `NOTIFY`.
    notify_queue: Option<tokio::sync::mpsc::Receiver<String>>,
    shutdown: watch::Receiver<bool>,
}

/// Starts the background tasks of `serve`: views, live updates, mail, the database probe,
/// SQLite's checkpoints, retention, notification mails, the digest scheduler. Each ends when
/// `shutdown` turns true.
fn spawn_workers(b: Background) -> Vec<JoinHandle<()>> {
    use actix_web::rt::spawn;
    let (db, settings, shutdown) = (b.db, b.settings, b.shutdown);
    let mut workers = vec![
        spawn(crate::discussions::views::run_flusher(
            db.clone(),
            b.views.clone(),
            shutdown.clone(),
        )),
        spawn(crate::discussions::live::run_pg_listener(
            settings.database.clone(),
            b.live.get_ref().clone(),
            shutdown.clone(),
        )),
        spawn(crate::mail::run_worker(
            db.clone(),
            b.mailer,
            b.outbox.get_ref().clone(),
            settings.mail_rate,
            shutdown.clone(),
        )),
        spawn(crate::db::health::run_probe(db.health(), shutdown.clone())),
        spawn(crate::db::checkpoint::run_checkpointer(
            settings.database.clone(),
            shutdown.clone(),
        )),
        spawn(crate::retention::run(
            db.clone(),
            settings.clone(),
            shutdown.clone(),
        )),
        spawn(crate::notifications::mail::run(
            db.clone(),
            settings.clone(),
            b.outbox.get_ref().clone(),
            shutdown.clone(),
        )),
        spawn(crate::newsletter::digest::run_scheduler(
            db.clone(),
            settings.digest_hour,
            settings.digest_check,
            crate::site::Site::from_settings(settings),
            b.outbox.get_ref().clone(),
            shutdown.clone(),
        )),
    ];
    if let Some(queue) = b.notify_queue {
        workers.push(spawn(crate::discussions::live::run_pg_notifier(
            db.clone(),
            queue,
            shutdown,
        )));
    }
    workers
}

/// The state every worker thread's `App` shares.
#[derive(Clone)]
struct Shared {
    db: web::Data<Db>,
    metrics: web::Data<Metrics>,
    spec: web::Data<SpecYaml>,
    known_routes: web::Data<KnownRoutes>,
    token_keys: web::Data<TokenKeys>,
    hasher: web::Data<Hasher>,
    rate_limits: web::Data<RateLimits>,
    trusted_proxies: web::Data<TrustedProxies>,
    outbox: web::Data<Outbox>,
    settings: web::Data<Settings>,
    live: web::Data<Live>,
    stream_slots: web::Data<StreamSlots>,
    feed_cache: web::Data<FeedCache>,
    thread_pages: web::Data<ThreadPages>,
    mutes: web::Data<MuteCache>,
    premoderation: web::Data<Premoderation>,
    views: web::Data<ViewCounter>,
}

/// The HTTP server over `listener`: the routes, their shared state, the middleware.
fn http_server(
    shared: Shared,
    settings: &Settings,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let body_limit = settings.body_limit;
    let request_timeout = RequestTimeout(settings.request_timeout);
    let cors_origins = settings.cors_origins.clone();
    Ok(HttpServer::new(move || {
        let s = shared.clone();
        let (app, _) = App::new()
            .into_utoipa_app()
            .app_data(s.db)
            .app_data(s.metrics)
            .app_data(s.spec)
            .app_data(s.known_routes)
            .app_data(s.token_keys)
            .app_data(s.hasher)
            .app_data(s.rate_limits)
            .app_data(s.trusted_proxies)
            .app_data(s.outbox)
            .app_data(s.settings)
            .app_data(s.live)
            .app_data(s.stream_slots)
            .app_data(s.feed_cache)
            .app_data(s.thread_pages)
            .app_data(s.mutes)
            .app_data(s.premoderation)
            .app_data(s.views)
            .app_data(BodyLimit(body_limit))
            .app_data(request_timeout)
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(move |e, _| json_config_error(e, body_limit).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| ApiError::from(e).into()))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .configure(routes)
            .split_for_parts();
        app.default_service(web::to(no_route))
            .wrap(from_fn(enforce_timeout))
            .wrap(cors(&cors_origins))
            .wrap(ErrorHandlers::new().default_handler(problem_json_for_all_errors))
            .wrap(security_headers())
            .wrap(from_fn(observe))
            .wrap(TracingLogger::<RequestSpan>::new())
    })
    .workers(settings.workers)
    // A client gets this long to send its request head, and to close when asked.
    .client_request_timeout(Duration::from_secs(10))
    .client_disconnect_timeout(Duration::from_secs(2))
    .keep_alive(Duration::from_secs(30))
    // On SIGTERM or Ctrl-C: stop accepting, let requests in flight finish (30 s at most).
    .shutdown_timeout(30)
    // Signals are ours (see `run_until_stopped`): live streams must end before the server
    // waits for open connections.
    .disable_signals()
    .listen(listener)?
    .run())
}

/// The key that signs access tokens: `TRIBUNE_JWT_SECRET`, or a random one made on first
/// start and kept in the `settings` table, so that every process and restart shares it.
async fn jwt_secret(settings: &Settings, db: &Db) -> anyhow::Result<Secret> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.clone());
    }
    let candidate = crate::auth::tokens::random_token();
    let stored = db
        .run(move |conn| Ok(setting_or_insert(conn, "jwt_secret", &candidate)?))
        .await
        .map_err(|e| anyhow::anyhow!("cannot read or store the signing key: {e}"))?;
    Ok(Secret::new(stored))
}

fn json_config_error(error: actix_web::error::JsonPayloadError, limit: usize) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match error {
        E::Overflow { .. } | E::OverflowKnownLength { .. } => ApiError::PayloadTooLarge { limit },
        E::ContentType => ApiError::BadRequest("Content-Type must be application/json".into()),
        other => ApiError::BadRequest(format!("malformed JSON: {other}")),
    }
}

/// A path parameter that does not parse: `405` when the path is another route's that this
/// method is not served at (`PATCH /api/v1/discussions/stream` matched `{id}`), else `400`.
fn path_error(error: actix_web::error::PathError, req: &HttpRequest) -> Error {
    let allowed = req
        .app_data::<web::Data<KnownRoutes>>()
        .and_then(|known| known.methods_at(req.path()));
    match allowed {
        Some(methods) if !methods.contains(&req.method().as_str()) => {
            ApiError::MethodNotAllowed(methods.into_iter().map(String::from).collect()).into()
        }
        _ => ApiError::from(error).into(),
    }
}

/// No route matched: `405` with `Allow` when the path exists with other methods, else `404`.
async fn no_route(
    req: HttpRequest,
    known: web::Data<KnownRoutes>,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match known.methods_at(req.path()) {
        Some(methods) => {
            ApiError::MethodNotAllowed(methods.into_iter().map(String::from).collect())
        }
        None => ApiError::NoRoute(req.path().to_string()),
    })
}

async fn enforce_timeout(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let limit = req
        .app_data::<RequestTimeout>()
        .map_or(Duration::from_secs(30), |t| t.0);
    // (The request cannot be cloned before routing, so the timeout is answered as an `Err`,
    // which actix renders from `ApiError::Timeout`: a problem+json 503.)
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis() as u64, "request timed out");
            Err(ApiError::Timeout.into())
        }
    }
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            header::LOCATION,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
}
