//! Operational endpoints, for load balancers, orchestrators and Prometheus.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{ApiError, Problem};
use crate::openapi::SpecYaml;
use crate::telemetry::Metrics;

/// How long `/readyz` waits for a database connection before answering 503 (while the probe
/// finds the database away, it answers 503 at once).
const READY_TIMEOUT: Duration = Duration::from_millis(900);

#[derive(Serialize, ToSchema)]
pub struct Status {
    /// `ok` from `/healthz`, `ready` from `/readyz`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(metrics)
        .service(openapi_yaml);
}

/// Liveness: the process is up and serving. Does not touch the database.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is up", body = Status)))]
#[get("/healthz")]
async fn healthz() -> web::Json<Status> {
    web::Json(Status { status: "ok" })
}

/// Readiness: the database answers. `503` when it does not, within a second of its loss.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = Status),
        (status = 503, description = "The database does not answer", body = Problem,
         content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
async fn readyz(db: web::Data<Db>) -> Result<web::Json<Status>, ApiError> {
    db.ping(READY_TIMEOUT).await?;
    Ok(web::Json(Status { status: "ready" }))
}

/// Metrics in the Prometheus (OpenMetrics) text format.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "OpenMetrics text", body = String,
               content_type = "application/openmetrics-text"))
)]
#[get("/metrics")]
async fn metrics(metrics: web::Data<Metrics>, db: web::Data<Db>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render(&db))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The OpenAPI document", body = String,
               content_type = "application/yaml"))
)]
#[get("/api-spec/openapi.yaml")]
async fn openapi_yaml(spec: web::Data<SpecYaml>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml")
        .body(spec.0.clone())
}
