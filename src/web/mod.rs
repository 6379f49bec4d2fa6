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
//! | `GET /healthz` | liveness incl. database |

mod account;
mod api;
mod auth;
pub mod cookies;
mod home;
pub mod lang;
pub mod pages;
pub mod return_to;
pub mod texts;

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

pub use crate::startup::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(home::router())
        .merge(auth::router())
        .merge(account::router())
        .merge(api::router())
        .layer(axum::middleware::from_fn(lang::remember_choice))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}
