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
    components(schemas(Problem, crate::discussions::dto::DiscussionEvent)),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Registration, sessions, passwords and profiles"),
        (name = "articles", description = "The news: editors publish, readers read"),
        (name = "discussions", description = "The feed by last activity, topics and live updates"),
        (name = "comments", description = "Comment threads under every discussion, votes and reports"),
        (name = "newsletter", description = "The daily digest: double opt-in subscriptions"),
        (name = "moderation", description = "Moderators' and admins' endpoints, and the audit log"),
        (name = "search", description = "Full-text search over articles, topics and comments"),
        (name = "notifications", description = "The inbox, the reader's own live stream, notification mail settings, mutes"),
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
    complete_responses(&mut api);
    api
}

/// Adds to every operation the problem answers that come from its shape rather than its
/// handler, so that the document names every status an operation can answer:
/// `400` (a malformed path or query parameter, JSON body or content type), `401` (an
/// operation that takes a token), `404` (a path naming nothing), `413` and `422` (a body too
/// large, or invalid fields), and `503` (the database away, or the request timed out: any
/// operation). An operation's own description of a status is kept.
fn complete_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, ParameterIn};
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                crate::error::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for item in api.paths.paths.values_mut() {
        for method in [
            HttpMethod::Get,
            HttpMethod::Post,
            HttpMethod::Put,
            HttpMethod::Patch,
            HttpMethod::Delete,
        ] {
            let operation = match method {
                HttpMethod::Get => item.get.as_mut(),
                HttpMethod::Post => item.post.as_mut(),
                HttpMethod::Put => item.put.as_mut(),
                HttpMethod::Patch => item.patch.as_mut(),
                HttpMethod::Delete => item.delete.as_mut(),
                _ => None,
            };
            let Some(operation) = operation else { continue };
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let in_path = parameters
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Path));
            let in_query = parameters
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Query));
            let body = operation.request_body.is_some();
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut wanted = Vec::new();
            if in_path || in_query || body {
                wanted.push((
                    "400",
                    "A malformed path or query parameter, JSON body or content type",
                ));
            }
            if secured {
                wanted.push(("401", "No valid access token"));
            }
            if in_path {
                wanted.push(("404", "Nothing by that name"));
            }
            if body {
                wanted.push(("413", "The body is larger than `TRIBUNE_BODY_LIMIT`"));
                wanted.push(("422", "Invalid fields, each named in `errors`"));
            }
            wanted.push((
                "503",
                "The database is unreachable, or the request took too long; `Retry-After` says \
                 when to try again",
            ));
            for (status, description) in wanted {
                if !operation.responses.responses.contains_key(status) {
                    operation
                        .responses
                        .responses
                        .insert(status.to_string(), problem(description).into());
                }
            }
        }
    }
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

    /// The methods served at `path`, if any route template matches it. A template with fewer
    /// parameters wins, as in the router (`/discussions/stream` is not `/discussions/{id}`).
    pub fn methods_at(&self, path: &str) -> Option<Vec<&'static str>> {
        let wanted = segments(path);
        let matching: Vec<_> = self
            .0
            .iter()
            .filter(|(template, _)| {
                template.len() == wanted.len()
                    && template
                        .iter()
                        .zip(&wanted)
                        .all(|(t, w)| (is_parameter(t) && !w.is_empty()) || t == w)
            })
            .collect();
        let fewest = matching
            .iter()
            .map(|(template, _)| template.iter().filter(|t| is_parameter(t)).count())
            .min()?;
        let mut allowed: Vec<&'static str> = matching
            .iter()
            .filter(|(template, _)| template.iter().filter(|t| is_parameter(t)).count() == fewest)
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
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
