//! Authorization codes: what the caller stores for one, and the pure
//! decision when a client redeems it.
//!
//! Storage contract (the caller's): store [`CodeRecord`] under
//! [`CodeRecord::code_hash`] until `expires_at`; at redemption, look it up
//! and mark it redeemed in one atomic step that says whether it already
//! was ([`CodeUse`]); keep the redeemed mark until `expires_at` so a replay
//! is recognised (and its tokens revoked) rather than answered "unknown".

use chrono::{DateTime, Duration, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::auth_context::SignIn;
use crate::authorize::{is_pkce_string, AuthorizationRequest};
use crate::errors::{Error, Result};
use crate::jws::b64;
use crate::scope::Scopes;
use crate::tokens::Grant;

/// Codes live a minute: long enough for an app to call the token endpoint,
/// short enough that a leaked code is useless soon after.
pub const CODE_LIFETIME_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// SHA-256 of the code, base64url: the storage key. The code itself is
    /// never stored, so reading the store yields no usable code.
    pub code_hash: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub code_challenge: Option<String>,
    pub scopes: Scopes,
    pub nonce: Option<String>,
    pub sign_in: SignIn,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The token family this code's redemption starts; a replay revokes it.
    pub family_id: Uuid,
}

/// The code to put in the redirect, and the record to store.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub code: String,
    pub record: CodeRecord,
}

/// The storage's answer when the record was taken for redemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeUse {
    FirstUse,
    AlreadyRedeemed,
}

/// The token request's code-grant parameters, from an authenticated client.
#[derive(Debug, Clone, Copy)]
pub struct CodeExchange<'a> {
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// A refused redemption: the error for the client and, for a replay, the
/// family whose tokens the caller must revoke (RFC 6749 §4.1.2) and audit.
#[derive(Debug)]
pub struct CodeRefusal {
    pub error: Error,
    pub revoke_family: Option<Uuid>,
}

impl From<Error> for CodeRefusal {
    fn from(error: Error) -> Self {
        CodeRefusal {
            error,
            revoke_family: None,
        }
    }
}

pub fn code_hash(code: &str) -> String {
    b64(&Sha256::digest(code.as_bytes()))
}

/// 256 random bits, base64url (43 characters).
pub(crate) fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    Ok(b64(&bytes))
}

/// A code for a request the person has just been signed in for.
pub fn issue_code(
    request: &AuthorizationRequest,
    sign_in: SignIn,
    now: DateTime<Utc>,
) -> Result<IssuedCode> {
    let code = random_token()?;
    let record = CodeRecord {
        code_hash: code_hash(&code),
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_given: request.redirect_uri_given,
        code_challenge: request.code_challenge.clone(),
        scopes: request.scopes,
        nonce: request.nonce.clone(),
        sign_in,
        issued_at: now,
        expires_at: now + Duration::seconds(CODE_LIFETIME_SECS),
        family_id: Uuid::new_v4(),
    };
    Ok(IssuedCode { code, record })
}

/// Decides a redemption. Every refusal is `invalid_grant` (RFC 6749 §5.2),
/// with a description that does not tell an attacker which binding failed
/// beyond what the legitimate client needs to fix its request.
pub fn redeem(
    record: &CodeRecord,
    state: CodeUse,
    exchange: &CodeExchange<'_>,
    now: DateTime<Utc>,
) -> std::result::Result<Grant, CodeRefusal> {
    if state == CodeUse::AlreadyRedeemed {
        return Err(CodeRefusal {
            error: Error::invalid_grant("the code was already used"),
            revoke_family: Some(record.family_id),
        });
    }
    if now > record.expires_at {
        return Err(Error::invalid_grant("the code has expired").into());
    }
    if exchange.client_id != record.client_id {
        return Err(Error::invalid_grant("the code was issued to another client").into());
    }
    match exchange.redirect_uri {
        Some(uri) if uri == record.redirect_uri => {}
        None if !record.redirect_uri_given => {}
        _ => {
            return Err(
                Error::invalid_grant("redirect_uri differs from the authorization request").into(),
            )
        }
    }
    match (&record.code_challenge, exchange.code_verifier) {
        (Some(challenge), Some(verifier)) => {
            if !is_pkce_string(verifier) {
                return Err(Error::invalid_grant("code_verifier is malformed").into());
            }
            let computed = b64(&Sha256::digest(verifier.as_bytes()));
            if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                return Err(Error::invalid_grant("code_verifier does not match").into());
            }
        }
        (Some(_), None) => return Err(Error::invalid_grant("code_verifier is required").into()),
        // OAuth 2.1 §4.1.3: a verifier for a code issued without a challenge
        // means someone is trying to downgrade PKCE.
        (None, Some(_)) => {
            return Err(Error::invalid_grant("no code_challenge was sent for this code").into())
        }
        (None, None) => {}
    }
    Ok(Grant {
        client_id: record.client_id.clone(),
        scopes: record.scopes,
        sign_in: record.sign_in.clone(),
        nonce: record.nonce.clone(),
        family_id: record.family_id,
    })
}

#[cfg(test)]
#[path = "code_tests.rs"]
mod tests;
