//! Our signing keys: loading, rotation, the published JWKS, and checks of
//! our own JWTs.

mod key_set;
mod signing_key;

#[cfg(test)]
mod tests;

pub use key_set::{is_demo_key, KeyConfig, KeySet, RegisteredClaims, DEMO_KEY_THUMBPRINTS};
pub use signing_key::SigningKey;
