//! The protocol core of esia-link as an OpenID Provider (issue #28): the
//! decisions of every endpoint as pure functions over typed records, with
//! time passed in. Storage, HTTP and the sign-in pages are the caller's.
//!
//! Endpoint by endpoint, the caller's steps:
//! - `/.well-known/openid-configuration`: [`Provider::discovery`].
//! - `/oauth2/jwks`: [`keys::KeySet::jwks`].
//! - `/oauth2/authorize`: [`authorize::parse_authorization_request`] →
//!   [`authorize::AuthorizationRequest::session_decision`] → sign-in pages →
//!   [`code::issue_code`] → [`authorize::AuthorizationRequest::success_location`].
//! - `/oauth2/token`: [`client_auth::authenticate`] →
//!   [`token_request::parse_token_request`] → [`code::redeem`] (plus
//!   [`refresh::start_family`]) or [`refresh::rotate`] →
//!   [`Provider::issue_tokens`] → [`tokens::IssuedTokens::response`].
//! - `/oauth2/userinfo`: see [`userinfo`].
//! - `/oauth2/introspect`, `/oauth2/revoke`: see [`introspect`].
//! - `/oauth2/logout`: [`Provider::parse_logout_request`], then
//!   [`Provider::backchannel_deliveries`] when the session ends.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::type_complexity
    )
)]

pub mod auth_context;
pub mod authorize;
pub mod client_auth;
pub mod clients;
pub mod code;
pub mod discovery;
pub mod errors;
pub mod introspect;
pub mod jws;
pub mod keys;
pub mod logout;
pub mod params;
pub mod provider;
pub mod refresh;
pub mod scope;
pub mod token_request;
pub mod tokens;
pub mod userinfo;

#[cfg(test)]
mod testutil;

pub use errors::{Error, Result};
pub use provider::{Lifetimes, Provider, ProviderConfig};
