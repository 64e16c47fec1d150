//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations.
//!
//! Routes are registered through `utoipa_actix_web`, which collects each handler's path item as
//! it registers the handler: a route cannot be served without being in the document.
//! `api-spec/openapi.yaml` is this document, committed; a test fails when they differ
//! (`UPDATE_OPENAPI=1 cargo test --test api openapi` rewrites the file).

use actix_web::App;
use utoipa::OpenApi;
use utoipa::openapi::path::PathItem;
use utoipa_actix_web::AppExt;

use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tribune",
        description = "The community backend of a news site: accounts, comment threads under \
                       articles, a discussion feed ordered by last activity, a daily newsletter \
                       and moderation. Errors are RFC 9457 `application/problem+json` documents.",
        license(name = "MIT OR Apache-2.0"),
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Registration, sessions, passwords and profiles"),
        (name = "articles", description = "The news: editors publish, readers read"),
        (name = "discussions", description = "The feed by last activity, topics and live updates"),
        (name = "comments", description = "Comment threads under every discussion, votes and reports"),
        (name = "newsletter", description = "The daily digest: double opt-in subscriptions"),
        (name = "moderation", description = "Moderators' and admins' endpoints, and the audit log"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

/// Declares the `bearer` security scheme that authenticated operations name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The whole document: the header above plus every registered route.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::startup::routes)
        .split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_string();
    api
}

/// The document as YAML, as committed in `api-spec/openapi.yaml`.
pub fn yaml() -> String {
    document()
        .to_yaml()
        .expect("the OpenAPI document always serializes")
}

/// The YAML text, served at `/api-spec/openapi.yaml`.
pub struct SpecYaml(pub String);

/// Every path template of the API with its methods, to tell a `404` (no such path) from a
/// `405` (the path exists, with other methods) for requests no route matched.
pub struct KnownRoutes(Vec<(Vec<String>, Vec<&'static str>)>);

impl KnownRoutes {
    pub fn from_document(api: &utoipa::openapi::OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| (segments(path), methods(item)))
            .collect();
        KnownRoutes(routes)
    }

    /// The methods served at `path`, if any route template matches it.
    pub fn methods_at(&self, path: &str) -> Option<Vec<&'static str>> {
        let wanted = segments(path);
        let mut allowed: Vec<&'static str> = self
            .0
            .iter()
            .filter(|(template, _)| {
                template.len() == wanted.len()
                    && template.iter().zip(&wanted).all(|(t, w)| {
                        (t.starts_with('{') && t.ends_with('}') && !w.is_empty()) || t == w
                    })
            })
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/').map(str::to_string).collect()
}

fn methods(item: &PathItem) -> Vec<&'static str> {
    [
        ("GET", item.get.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("PATCH", item.patch.is_some()),
        ("DELETE", item.delete.is_some()),
    ]
    .into_iter()
    .filter_map(|(m, present)| present.then_some(m))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_routes_match_templates() {
        let api = document();
        let routes = KnownRoutes::from_document(&api);
        assert_eq!(routes.methods_at("/healthz"), Some(vec!["GET"]));
        assert_eq!(routes.methods_at("/nope"), None);
        assert_eq!(routes.methods_at("/healthz/extra"), None);
    }
}
