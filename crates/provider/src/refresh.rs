//! Refresh-token families with rotation and reuse detection.
//!
//! A token is `<family id>.<256 random bits>`; only its SHA-256 is stored,
//! in the family record, which holds the current generation. Each use
//! rotates: the presented token dies and a new one is issued. A token of
//! the family that is not the current one means two parties hold tokens
//! of this family — one of them stole it — so the whole family is revoked
//! (OAuth 2.0 Security BCP §4.14.2).
//!
//! Storage contract (the caller's): key families by `id`; write a rotated
//! family only if the stored `generation` is still the one read
//! (compare-and-swap), so two concurrent refreshes cannot both win.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::auth_context::SignIn;
use crate::code::random_token;
use crate::errors::{Error, Result};
use crate::jws::b64;
use crate::scope::{Scope, Scopes};
use crate::tokens::Grant;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    pub id: Uuid,
    pub client_id: String,
    /// As granted at sign-in; a refresh may ask for fewer, never more.
    pub scopes: Scopes,
    pub sign_in: SignIn,
    pub current_hash: String,
    /// The token rotated away last, accepted again only within the grace
    /// period (a response lost on the way to a phone).
    pub previous_hash: Option<String>,
    pub generation: u32,
    pub rotated_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// Absolute end, from the sign-in; rotation does not extend it.
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

impl RefreshFamily {
    /// Whether the family outlives the browser session (`offline_access`):
    /// ending the session revokes the others; "log out everywhere", an
    /// unlink or a password change revoke all.
    pub fn offline(&self) -> bool {
        self.scopes.contains(Scope::OfflineAccess)
    }
}

/// A presented token split into what the store is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedRefreshToken {
    pub family_id: Uuid,
    pub hash: String,
}

impl PresentedRefreshToken {
    /// `None` for anything not shaped like our refresh tokens (answer
    /// `invalid_grant` without touching the store).
    pub fn parse(token: &str) -> Option<PresentedRefreshToken> {
        let (family, secret) = token.split_once('.')?;
        if family.len() != 32 || secret.len() != 43 {
            return None;
        }
        Some(PresentedRefreshToken {
            family_id: Uuid::try_parse(family).ok()?,
            hash: token_hash(token),
        })
    }
}

fn token_hash(token: &str) -> String {
    b64(&Sha256::digest(token.as_bytes()))
}

fn new_token(family_id: Uuid) -> Result<String> {
    Ok(format!("{}.{}", family_id.simple(), random_token()?))
}

/// The first token of a new family, for a just-redeemed code.
pub fn start_family(
    grant: &Grant,
    lifetime: Duration,
    now: DateTime<Utc>,
) -> Result<(String, RefreshFamily)> {
    let token = new_token(grant.family_id)?;
    let family = RefreshFamily {
        id: grant.family_id,
        client_id: grant.client_id.clone(),
        scopes: grant.scopes,
        sign_in: grant.sign_in.clone(),
        current_hash: token_hash(&token),
        previous_hash: None,
        generation: 0,
        rotated_at: now,
        created_at: now,
        expires_at: grant.sign_in.auth_time.max(now) + lifetime,
        revoked: false,
    };
    Ok((token, family))
}

// Returned once per refresh and consumed at once, never stored: boxing
// the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Rotation {
    /// Store `family` (compare-and-swap on the old generation), mint
    /// tokens for `grant`, and return `token`.
    Rotated {
        token: String,
        family: RefreshFamily,
        grant: Grant,
    },
    /// Answer the error; nothing changes.
    Refused(Error),
    /// Revoke the whole family, audit it, and answer `error`.
    ReuseDetected { family_id: Uuid, error: Error },
}

/// Decides a `refresh_token` grant for the authenticated `client_id`.
pub fn rotate(
    family: &RefreshFamily,
    presented: &PresentedRefreshToken,
    client_id: &str,
    requested_scope: Option<&str>,
    reuse_grace: Duration,
    now: DateTime<Utc>,
) -> Rotation {
    let refused = |d: &'static str| Rotation::Refused(Error::invalid_grant(d));
    if presented.family_id != family.id {
        return refused("unknown refresh token");
    }
    // Another client's token is refused but the family is left alone: the
    // token is bound to its client (RFC 6749 §6), so this one gains nothing
    // by it; and if presenting a token were enough to revoke, anyone holding
    // one client's credentials could sign people out of every other app.
    // The owner's next use still detects reuse if the token was stolen.
    if client_id != family.client_id {
        return refused("the refresh token was issued to another client");
    }
    if family.revoked {
        return refused("the refresh token was revoked");
    }
    if now >= family.expires_at {
        return refused("the refresh token has expired");
    }
    let is = |hash: &str| bool::from(presented.hash.as_bytes().ct_eq(hash.as_bytes()));
    let current = is(&family.current_hash);
    let within_grace = family.previous_hash.as_deref().is_some_and(is)
        // Strictly less: a zero grace must accept nothing, even within the
        // same second as the rotation.
        && now.signed_duration_since(family.rotated_at) < reuse_grace;
    if !current && !within_grace {
        return Rotation::ReuseDetected {
            family_id: family.id,
            error: Error::invalid_grant("the refresh token was already used"),
        };
    }
    let scopes = match requested_scope {
        None => family.scopes,
        Some(text) => match Scopes::parse(text) {
            Ok(scopes) if scopes.is_subset_of(family.scopes) && scopes.contains(Scope::Openid) => {
                scopes
            }
            Ok(_) => {
                return Rotation::Refused(Error::invalid_scope(
                    "a refresh may keep or narrow the granted scopes, with openid",
                ))
            }
            Err(error) => return Rotation::Refused(error),
        },
    };
    let token = match new_token(family.id) {
        Ok(token) => token,
        Err(error) => return Rotation::Refused(error),
    };
    let mut next = family.clone();
    next.previous_hash = Some(presented.hash.clone());
    next.current_hash = token_hash(&token);
    next.generation = family.generation.saturating_add(1);
    next.rotated_at = now;
    let grant = Grant {
        client_id: family.client_id.clone(),
        scopes,
        sign_in: family.sign_in.clone(),
        nonce: None,
        family_id: family.id,
    };
    Rotation::Rotated {
        token,
        family: next,
        grant,
    }
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod tests;
