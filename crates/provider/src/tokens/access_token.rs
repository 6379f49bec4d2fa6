//! Access tokens as JWTs per RFC 9068, so diary back ends can check them
//! offline against our JWKS; introspection and userinfo check them here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Grant, PersonClaims};
use crate::auth_context::{Acr, Amr};
use crate::clients::Client;
use crate::errors::{Error, Result};
use crate::keys::RegisteredClaims;
use crate::provider::Provider;
use crate::scope::{Scope, Scopes};

/// RFC 9068 §2.1 header `typ`.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub exp: i64,
    pub aud: String,
    pub sub: String,
    pub client_id: String,
    pub iat: i64,
    pub jti: String,
    pub scope: Scopes,
    pub auth_time: i64,
    pub acr: Acr,
    pub amr: Vec<Amr>,
    pub sid: String,
    /// The refresh-token family behind this token; introspection and
    /// userinfo treat the token as inactive once the family is revoked.
    pub token_family: Uuid,
    /// Scope `diary` (RFC 9068 §2.2.3 authorization claims): which pupils
    /// the person may see, for back ends that decide offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diary: Option<serde_json::Value>,
}

impl RegisteredClaims for AccessTokenClaims {
    fn iss(&self) -> &str {
        &self.iss
    }
    fn exp(&self) -> i64 {
        self.exp
    }
}

#[derive(Debug, Clone)]
pub struct MintedAccessToken {
    pub token: String,
    pub jti: String,
    pub expires_at: DateTime<Utc>,
}

impl Provider {
    pub fn mint_access_token(
        &self,
        grant: &Grant,
        client: &Client,
        person: &PersonClaims,
        now: DateTime<Utc>,
    ) -> Result<MintedAccessToken> {
        let expires_at = now + self.lifetimes.access_token();
        let jti = Uuid::new_v4().to_string();
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            exp: expires_at.timestamp(),
            aud: self.access_token_audience.clone(),
            sub: self.subjects.subject(client, &grant.sign_in.account_id),
            client_id: client.id.clone(),
            iat: now.timestamp(),
            jti: jti.clone(),
            scope: grant.scopes,
            auth_time: grant.sign_in.auth_time.timestamp(),
            acr: grant.sign_in.acr,
            amr: grant.sign_in.amr.clone(),
            sid: grant.sign_in.session_id.clone(),
            token_family: grant.family_id,
            diary: if grant.scopes.contains(Scope::Diary) {
                person.diary.clone()
            } else {
                None
            },
        };
        let token = self
            .keys
            .signing_key(self.access_token_alg, now)?
            .sign_jwt(ACCESS_TOKEN_TYP, &claims)?;
        self.signed_here
            .remember(&token, claims.exp, now.timestamp());
        Ok(MintedAccessToken {
            token,
            jti,
            expires_at,
        })
    }

    /// Checks an access token of ours (signature, `typ`, `iss`, `exp`); the
    /// signature of one this process signed is known good
    /// ([`crate::tokens::SignedHere`]).
    /// Whether its family or `jti` was revoked is the caller's lookup.
    pub fn verify_access_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<AccessTokenClaims> {
        let signed_here = self.signed_here.knows(token, now.timestamp());
        self.keys
            .verify_checked(
                token,
                ACCESS_TOKEN_TYP,
                &self.issuer,
                now,
                true,
                signed_here,
            )
            .map_err(Error::InvalidToken)
    }
}
