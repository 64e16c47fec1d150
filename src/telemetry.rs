//! Logs, request ids and metrics.
//!
//! Every request runs inside a `request` span carrying its id (also sent back as
//! `X-Request-Id`), so every log line written while serving it names the request. One line is
//! logged when a request ends, with its status and latency. Metrics are Prometheus counters and
//! histograms per method, route pattern and status, plus the state of the database pool.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, Settings};
use crate::db::Db;

/// Installs the global log subscriber: text or JSON lines on stdout, filtered by `RUST_LOG`.
pub fn init_logging(settings: &Settings) {
    let filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into files or log collectors.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    // A second call (tests start many apps in one process) leaves the first subscriber.
    let _ = match settings.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// The root span of a request: its id, method and path.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            id = %request_id,
            method = %request.method(),
            path = %request.path(),
        )
    }

    fn on_request_end<B: MessageBody>(_: Span, _: &Result<ServiceResponse<B>, Error>) {
        // `observe` logs the outcome, inside this span.
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// The process's Prometheus registry and the metrics the server itself keeps.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    pool_connections: Gauge,
    pool_idle: Gauge,
    live_streams: Gauge,
    db_up: Gauge,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Metrics {
    pub fn new(pool_max: u32) -> Self {
        let mut registry = Registry::with_prefix("tribune");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> _,
        );
        let pool_connections: Gauge = Gauge::default();
        let pool_idle: Gauge = Gauge::default();
        let pool_max_gauge: Gauge = Gauge::default();
        pool_max_gauge.set(pool_max.into());
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method, route pattern and status",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections in this process's pool",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections in this process's pool",
            pool_idle.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "Largest size of this process's database pool",
            pool_max_gauge.clone(),
        );
        let db_up: Gauge = Gauge::default();
        registry.register(
            "db_up",
            "1 while the database answers this process's probe, 0 while it is away",
            db_up.clone(),
        );
        let live_streams: Gauge = Gauge::default();
        registry.register(
            "live_streams",
            "Live event streams this process holds open",
            live_streams.clone(),
        );
        Metrics {
            db_up,
            live_streams,
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
        }
    }

    fn record(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let labels = RequestLabels {
            method: method.to_string(),
            route: route.to_string(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    /// The gauge of open live streams, for whoever opens and closes them.
    pub fn live_streams(&self) -> Gauge {
        self.live_streams.clone()
    }

    /// The OpenMetrics text of every metric, the pool state read now.
    pub fn render(&self, db: &Db) -> String {
        let state = db.pool_state();
        self.pool_connections.set(state.connections.into());
        self.pool_idle.set(state.idle_connections.into());
        self.db_up.set(i64::from(db.is_up()));
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        text
    }
}

/// The method as a metric label: one of the standard methods, or `OTHER`. Anyone can send any
/// method name; a label per name would grow the metrics without bound.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    STANDARD
        .into_iter()
        .find(|m| *m == method.as_str())
        .unwrap_or("OTHER")
}

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware: records metrics, logs the outcome, and sets the per-response headers that
/// depend on the request (`X-Request-Id`; `Cache-Control: no-store` when it carried
/// credentials, so no cache keeps a user's data).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = method_label(req.method());
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);

    let result = next.call(req).await;
    // An `Err` here (a middleware's own error, such as a timeout) is rendered by actix from
    // the error itself: count and log it, and pass it on.
    let mut res = match result {
        Ok(res) => res,
        Err(err) => {
            let status = err.as_response_error().status_code().as_u16();
            let elapsed = started.elapsed();
            if let Some(metrics) = metrics {
                metrics.record(method, "<unmatched>", status, elapsed.as_secs_f64());
            }
            tracing::warn!(status, error = %err, "request failed");
            return Err(err);
        }
    };

    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_string());
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.record(method, &route, status, elapsed.as_secs_f64());
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(status, route, latency_ms, "request failed");
    } else {
        tracing::info!(status, route, latency_ms, "request done");
    }

    let headers = res.headers_mut();
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        headers.insert(X_REQUEST_ID.clone(), id);
    }
    if authenticated && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}
