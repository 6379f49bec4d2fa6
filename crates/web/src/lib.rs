//! The HTTP surface. Each route module exposes `router()`; this file is the
//! one place that assembles them, so the URL map reads in one screen:
//!
//! | path | what |
//! | --- | --- |
//! | `GET /` | region choice and the State Services button |
//! | `GET /auth/start/{provider}` | start a login (303 to the IdP) |
//! | `GET /auth/callback/{provider}` | the IdP's answer (303 to a clean URL) |
//! | `GET /auth/outcome` | what happened, who can fix it, reference code |
//! | `GET /account`, `POST /logout` | the logged-in person |
//! | `GET /api/v1/me` | JSON for the diary application |
//! | `GET /ops?q=` | support console: why a login failed (operator roles only) |
//! | `GET /ops/audit`, `POST /ops/{unlink,relink,correct,reset-activation,confirm-relationship}` | audit viewer and operator actions (reason required, audited) |
//! | `GET /activate[?code=]`, `POST /activate/{code,step}`, `GET /activate/confirm` | the activation wizard and its e-mail link |
//! | `GET/POST /login/password`, `GET/POST /link`, `GET/POST /link/code` | diary password login; linking a State Services identity by password or activation code |
//! | `/recover/...`, `/family/child/{id}/password` | forgotten password or login; a parent sets a child's password |
//! | `GET /notifications`, `/family...` | notification centre, children, trusted persons |
//! | `/school/...` | the school's own console: classes, roster upload, codes and class packets, people (school administrators; see `school/`) |
//! | `/api/v1/schools/{id}/{roster,people,codes}` | school admin API (per-school bearer token) |
//! | `GET /api/v1/openapi.json` | the OpenAPI document of the school API (generated) |
//! | `GET /api/v1/me/access`, `GET /api/v1/access` | what a session may see; allow/deny for a service |
//! | `GET /healthz` | liveness incl. database |
//! | `GET /readyz` | readiness: database and ephemeral store, each named (JSON) |
//! | `GET /metrics` | Prometheus text: attempts by outcome, IdP latency and errors, rate limits |
//! | `GET /.well-known/openid-configuration`, `GET /oauth2/jwks` | esia-link as the diary apps' OpenID Provider: metadata and keys |
//! | `GET /oauth2/authorize`, `GET /oauth2/continue/{id}` | an app asks for a code; the person signs in first if they must |
//! | `POST /oauth2/token`, `/oauth2/userinfo`, `POST /oauth2/introspect`, `POST /oauth2/revoke` | the apps' tokens |
//! | `GET/POST /oauth2/logout` | RP-initiated logout (asks the person unless the app's ID token names this session) |
//! | anything else | a 404 page (RU/EN) |
//!
//! Handlers parse the request, call one use case of [`app::App`] and
//! render; failures go through [`error::WebError`].

mod account;
mod activate;
mod api;
mod apps;
mod auth;
mod chart;
mod console;
pub mod cookies;
pub mod error;
mod family;
mod grammar;
mod headers;
mod home;
pub mod kit;
pub mod lang;
pub mod pages;
mod password;
mod recovery;
pub mod return_to;
mod school;
mod school_api;
pub mod texts;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;

use app::App;
use lang::RequestLang;

pub type AppState = Arc<App>;

pub fn router(app: AppState) -> Router {
    router_with(app, Router::new())
}

/// The route map plus `extra` routes that get the same headers, error
/// surface and 404 page (the demo adds its own pages this way; the
/// production binary passes none).
pub fn router_with(app: AppState, extra: Router<AppState>) -> Router {
    let hsts = app.config().server.public_url.starts_with("https://");
    let router = Router::new()
        .merge(home::router())
        .merge(auth::router())
        .merge(account::router())
        .merge(api::router())
        .merge(school_api::router())
        .merge(activate::router())
        .merge(password::router())
        .merge(console::router())
        .merge(family::router())
        .merge(recovery::router())
        .merge(school::router())
        .merge(apps::router())
        .merge(extra)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(kit::surface_scope))
        .layer(headers::ResponseHeadersLayer::new(
            app.config().server.secure_cookies,
            hsts,
        ));
    router.with_state(app)
}

async fn not_found(RequestLang(lang): RequestLang) -> Response {
    let page = pages::MessagePage::new(
        lang,
        lang.pick("Страница не найдена", "Page not found"),
        lang.pick(
            "Такой страницы нет. Проверьте адрес или начните со страницы входа.",
            "There is no such page. Check the address or start from the login page.",
        ),
        None,
    );
    pages::render(StatusCode::NOT_FOUND, &page)
}

/// The first value of `name` in a query string: repeated names, odd
/// encodings and oversized values never fail the request.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| bounded(value))
}

/// A query value cut to its first 4096 characters.
pub(crate) fn bounded(value: std::borrow::Cow<'_, str>) -> String {
    const MAX_CHARS: usize = 4096;
    // Byte length bounds the character count: most values need no counting.
    if value.len() <= MAX_CHARS {
        return value.into_owned();
    }
    value.chars().take(MAX_CHARS).collect()
}
