//! `/oauth2/userinfo` (OpenID Connect Core §5.3): the same claims as the ID
//! token, for the bearer of an access token.
//!
//! The caller's steps: [`bearer_token`] → [`Provider::verify_access_token`]
//! → load the refresh family named by `token_family` (it holds the
//! account id, since a pairwise `sub` cannot be reversed) and refuse if it
//! is revoked or the `jti` is denied → look up the person →
//! [`Provider::userinfo`].

use openidconnect::core::CoreGenderClaim;
use openidconnect::UserInfoClaims;

use crate::errors::{Error, Result};
use crate::provider::Provider;
use crate::scope::Scope;
use crate::tokens::{diary_claim, standard_claims};
use crate::tokens::{AccessTokenClaims, PersonClaims, ProviderClaims};

pub type EsiaLinkUserInfoClaims = UserInfoClaims<ProviderClaims, CoreGenderClaim>;

/// The token of `Authorization: Bearer …` (RFC 6750 §2.1; the query and
/// form variants are not accepted, as they leak into logs).
pub fn bearer_token(authorization: Option<&str>) -> Result<&str> {
    let header = authorization.ok_or_else(|| Error::InvalidToken("no access token".into()))?;
    match header.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(Error::InvalidToken(
            "the Authorization header must be Bearer".into(),
        )),
    }
}

impl Provider {
    /// The userinfo answer for a verified, unrevoked access token.
    pub fn userinfo(
        &self,
        claims: &AccessTokenClaims,
        person: &PersonClaims,
    ) -> Result<EsiaLinkUserInfoClaims> {
        if !claims.scope.contains(Scope::Openid) {
            return Err(Error::InvalidToken(
                "the access token has no openid scope".into(),
            ));
        }
        Ok(EsiaLinkUserInfoClaims::new(
            standard_claims(claims.sub.clone(), claims.scope, person),
            ProviderClaims {
                sid: None,
                diary: diary_claim(claims.scope, person),
            },
        ))
    }
}
