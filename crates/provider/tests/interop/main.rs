//! Round trips that prove interoperability: tokens minted here, checked by
//! openidconnect's own client-side code (a different RSA/ECDSA stack from
//! ring), and whole grants from authorization request to logout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixture;
mod grants;
mod logout;
mod provider_config;
mod wire;
