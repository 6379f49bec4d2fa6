//! The protocol core of esia-link as an OpenID Provider.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod auth_context;
pub mod errors;
pub mod jws;
pub mod keys;
pub mod params;
pub mod scope;
pub mod authorize;
pub mod client_auth;
pub mod clients;
pub mod code;

#[cfg(test)]
mod testutil;
pub mod provider;
pub mod refresh;
pub mod tokens;
