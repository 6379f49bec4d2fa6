//! What every handler needs, once: the [`Visit`] extractor (language,
//! client address, whether the request comes from our own pages, the
//! session cookie) and the request's surface, so that a handler can write
//! `app.family().invite_trusted(...).await?` and a failure becomes the
//! right page (or JSON under `/api/`) in the person's language through
//! `From<AppError> for WebError`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use super::error::{Surface, WebError};
use super::{cookies, lang, AppState};
use app::AppError;
use i18n::Lang;

tokio::task_local! {
    /// How the request being served shows its errors (set by [`surface_scope`]).
    static SURFACE: Surface;
}

/// Middleware: every handler runs knowing how its errors are shown, a page
/// in the request's language or JSON for the API.
pub async fn surface_scope(request: Request, next: Next) -> Response {
    let surface = if request.uri().path().starts_with("/api/") {
        Surface::Json
    } else {
        let (parts, body) = request.into_parts();
        let surface = Surface::Page(lang::from_parts(&parts));
        return SURFACE
            .scope(surface, next.run(Request::from_parts(parts, body)))
            .await;
    };
    SURFACE.scope(surface, next.run(request)).await
}

/// The surface of the request being served (a Russian page outside one).
pub fn current_surface() -> Surface {
    SURFACE
        .try_with(|surface| *surface)
        .unwrap_or(Surface::Page(Lang::Ru))
}

impl From<AppError> for WebError {
    fn from(error: AppError) -> WebError {
        WebError::new(error, current_surface())
    }
}

/// What a request carries that handlers need besides its own fields.
pub struct Visit {
    pub lang: Lang,
    /// For rate limits: the configured proxy header's last entry, else the peer.
    pub client: String,
    same_origin: bool,
    session_cookie: Option<String>,
}

impl Visit {
    /// Forms posted before any session exists (codes, passwords) must come
    /// from this site's own pages.
    pub fn require_same_origin(&self) -> Result<(), WebError> {
        if self.same_origin {
            Ok(())
        } else {
            Err(AppError::CsrfMismatch.into())
        }
    }

    /// The session cookie's value, if the browser sent one.
    pub fn session_cookie(&self) -> Option<&str> {
        self.session_cookie.as_deref()
    }
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer);
        Ok(Visit {
            lang: lang::from_parts(parts),
            client: client_address(app, &parts.headers, peer),
            same_origin: same_origin(app, &parts.headers),
            session_cookie: cookies::get(&parts.headers, cookies::SESSION),
        })
    }
}

/// The client's address for rate limits: the configured proxy header's last
/// entry (the one our own proxy appended), else the peer address.
pub fn client_address(app: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    app.config()
        .server
        .client_ip_header
        .as_deref()
        .and_then(|name| headers.get(name))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_string)
        .or_else(|| peer.map(|peer| peer.ip().to_string()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Browsers say where a request comes from in `Sec-Fetch-Site`; older ones
/// only in `Origin` (which our `no-referrer` policy turns into `null` after
/// cross-site redirects, so it is the fallback). Neither header: not a
/// browser, nothing to forge.
pub fn same_origin(app: &AppState, headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match header("origin") {
        None => true,
        Some(origin) => app
            .config()
            .server
            .public_url
            .trim_end_matches('/')
            .eq_ignore_ascii_case(origin),
    }
}
