//! Tribune: the community backend of a news site.
//!
//! A guided tour, one line a module:

/// Command-line interface: `serve`, `migrate`, `openapi`.
pub mod cli;
/// Settings from the environment and an optional `tribune.toml`, validated at start.
pub mod config;
/// The database: one connection type over SQLite and PostgreSQL, the pool, migrations, schema.
pub mod db;
/// `ApiError`, the one error type, rendered as `application/problem+json`.
pub mod error;
/// Our JSON body extractor: content type, size limit and field-naming errors.
pub mod extract;
/// The OpenAPI document, generated from the handlers.
pub mod openapi;
/// Operational endpoints: `/healthz`, `/readyz`, `/metrics`, `/api-spec/openapi.yaml`.
pub mod ops;
/// `Application::build`: the bound server and its background work; used by the tests too.
pub mod startup;
/// Logging (tracing), request ids and Prometheus metrics.
pub mod telemetry;
