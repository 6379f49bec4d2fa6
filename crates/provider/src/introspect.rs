//! RFC 7662 introspection and RFC 7009 revocation: what a presented token
//! is, and what to answer about it.
//!
//! Introspection never says why a token is inactive: unknown, expired,
//! revoked and "not yours" all read `{"active": false}` (RFC 7662 §2.2),
//! so a caller learns nothing about other clients' tokens.

use chrono::{DateTime, Utc};
use openidconnect::core::CoreTokenType;
use openidconnect::{
    ClientId, ExtraTokenFields, Scope as OidcScope, StandardTokenIntrospectionResponse,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clients::{Client, ClientKind};
use crate::errors::{Error, Result};
use crate::provider::Provider;
use crate::refresh::{PresentedRefreshToken, RefreshFamily};
use crate::scope::Scopes;
use crate::tokens::{AccessTokenClaims, IdTokenHintClaims};

/// Our additions to the introspection answer: how the person signed in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntrospectionExtra {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

impl ExtraTokenFields for IntrospectionExtra {}

pub type IntrospectionResponse =
    StandardTokenIntrospectionResponse<IntrospectionExtra, CoreTokenType>;

/// What a presented token turned out to be (signature and expiry already
/// checked for JWTs).
#[derive(Debug)]
pub enum PresentedToken {
    Access(Box<AccessTokenClaims>),
    /// Shaped like our refresh tokens; the caller loads the family.
    Refresh(PresentedRefreshToken),
    /// One of our ID tokens: not an OAuth token, nothing to revoke.
    IdToken,
    /// Anything else, including expired or forged tokens.
    Unknown,
}

impl Provider {
    /// Classifies a token for introspection or revocation. The
    /// `token_type_hint` only orders the attempts (RFC 7009 §2.1); an
    /// unknown hint is ignored.
    pub fn classify_token(&self, token: &str, now: DateTime<Utc>) -> PresentedToken {
        if let Some(refresh) = PresentedRefreshToken::parse(token) {
            return PresentedToken::Refresh(refresh);
        }
        if let Ok(claims) = self.verify_access_token(token, now) {
            return PresentedToken::Access(Box::new(claims));
        }
        if self
            .keys
            .verify::<IdTokenHintClaims>(token, "JWT", &self.issuer, now, true)
            .is_ok()
        {
            return PresentedToken::IdToken;
        }
        PresentedToken::Unknown
    }

    /// Introspection needs an authenticated caller (RFC 7662 §2.1): a
    /// public client's `client_id` proves nothing.
    pub fn check_introspection_caller(&self, caller: &Client) -> Result<()> {
        match caller.kind {
            ClientKind::Confidential => Ok(()),
            ClientKind::Public => Err(Error::invalid_client(
                "introspection needs a confidential client",
                false,
            )),
        }
    }

    /// The answer for an access token whose signature and expiry passed;
    /// `revoked`: its family or its `jti` was revoked (the caller's lookup).
    pub fn introspect_access(
        &self,
        claims: &AccessTokenClaims,
        caller: &Client,
        revoked: bool,
    ) -> IntrospectionResponse {
        if revoked || (caller.id != claims.client_id && !caller.resource_server) {
            return inactive();
        }
        let mut response = IntrospectionResponse::new(
            true,
            IntrospectionExtra {
                acr: Some(claims.acr.as_str().to_string()),
                auth_time: Some(claims.auth_time),
            },
        );
        response.set_scopes(Some(scopes(claims.scope)));
        response.set_client_id(Some(ClientId::new(claims.client_id.clone())));
        response.set_token_type(Some(CoreTokenType::Bearer));
        response.set_exp(DateTime::from_timestamp(claims.exp, 0));
        response.set_iat(DateTime::from_timestamp(claims.iat, 0));
        response.set_sub(Some(claims.sub.clone()));
        response.set_aud(Some(vec![claims.aud.clone()]));
        response.set_iss(Some(claims.iss.clone()));
        response.set_jti(Some(claims.jti.clone()));
        response
    }

    /// The answer for a refresh token; `family` is what the store holds
    /// for the token's family id (`None`: nothing).
    pub fn introspect_refresh(
        &self,
        presented: &PresentedRefreshToken,
        family: Option<&RefreshFamily>,
        caller: &Client,
        now: DateTime<Utc>,
    ) -> IntrospectionResponse {
        let Some(family) = family.filter(|f| {
            f.id == presented.family_id
                && f.current_hash == presented.hash
                && !f.revoked
                && now < f.expires_at
                && f.client_id == caller.id
        }) else {
            return inactive();
        };
        let mut response = IntrospectionResponse::new(
            true,
            IntrospectionExtra {
                acr: Some(family.sign_in.acr.as_str().to_string()),
                auth_time: Some(family.sign_in.auth_time.timestamp()),
            },
        );
        response.set_scopes(Some(scopes(family.scopes)));
        response.set_client_id(Some(ClientId::new(family.client_id.clone())));
        response.set_exp(Some(family.expires_at));
        response.set_iat(Some(family.rotated_at));
        response.set_sub(Some(
            self.subjects.subject(caller, &family.sign_in.account_id),
        ));
        response.set_iss(Some(self.issuer.clone()));
        response
    }

    /// RFC 7009: what to do with a token a client wants revoked.
    pub fn revocation(
        &self,
        token: PresentedToken,
        family: Option<&RefreshFamily>,
        caller: &Client,
    ) -> std::result::Result<Revocation, Error> {
        match token {
            PresentedToken::Refresh(presented) => match family {
                Some(f) if f.id == presented.family_id && f.client_id != caller.id => {
                    Err(not_yours())
                }
                Some(f) if f.id == presented.family_id => Ok(Revocation::RevokeFamily(f.id)),
                _ => Ok(Revocation::Nothing),
            },
            PresentedToken::Access(claims) if claims.client_id != caller.id => Err(not_yours()),
            // RFC 7009 §2.1: revoking an access token may revoke its
            // refresh token too; we do, so "sign out" in an app that only
            // kept the access token still ends its grant.
            PresentedToken::Access(claims) => Ok(Revocation::RevokeAccessToken {
                jti: claims.jti.clone(),
                until: DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
                family_id: claims.token_family,
            }),
            // RFC 7009 §2.2.1: the token type exists here but is not revocable.
            PresentedToken::IdToken => Err(Error::UnsupportedTokenType),
            // §2.2: an invalid or unknown token is answered 200 all the same.
            PresentedToken::Unknown => Ok(Revocation::Nothing),
        }
    }
}

/// The caller's part of a revocation; the HTTP answer is 200 with an
/// empty body in every `Ok` case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    Nothing,
    RevokeFamily(Uuid),
    /// Deny the `jti` until `until` (introspection and userinfo consult
    /// it) and revoke its family.
    RevokeAccessToken {
        jti: String,
        until: DateTime<Utc>,
        family_id: Uuid,
    },
}

/// RFC 7009 §2.1: a token issued to another client is refused.
fn not_yours() -> Error {
    Error::UnauthorizedClient("the token was issued to another client".into())
}

pub fn inactive() -> IntrospectionResponse {
    IntrospectionResponse::new(false, IntrospectionExtra::default())
}

fn scopes(scopes: Scopes) -> Vec<OidcScope> {
    scopes
        .iter()
        .map(|s| OidcScope::new(s.as_str().to_string()))
        .collect()
}
