//! ID tokens through openidconnect's own types: claims are
//! `IdTokenClaims`, the token is `IdToken::new` (which also computes
//! `at_hash` the way openidconnect's verifier checks it), and the signer is
//! our ring key through `PrivateSigningKey`.

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, AuthenticationContextClass,
    AuthenticationMethodReference, EndUserFamilyName, EndUserGivenName, EndUserMiddleName,
    EndUserName, IdToken, IdTokenClaims, IssuerUrl, LocalizedClaim, Nonce, StandardClaims,
    SubjectIdentifier,
};
use serde::{Deserialize, Serialize};

use super::{Grant, PersonClaims};
use crate::clients::Client;
use crate::errors::{Error, Result};
use crate::keys::RegisteredClaims;
use crate::provider::Provider;
use crate::scope::{Scope, Scopes};

/// Our claims beyond the standard ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderClaims {
    /// The esia-link session (Back-Channel Logout §2.6 / Front-Channel
    /// `sid`): what a logout token names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Scope `diary`: role, school, region and pupils.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diary: Option<serde_json::Value>,
}

impl AdditionalClaims for ProviderClaims {}

pub type EsiaLinkIdTokenClaims = IdTokenClaims<ProviderClaims, CoreGenderClaim>;
pub type EsiaLinkIdToken = IdToken<
    ProviderClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

impl Provider {
    /// The ID token of a grant. `access_token` is the one issued with it
    /// (`at_hash`).
    pub fn mint_id_token(
        &self,
        grant: &Grant,
        client: &Client,
        person: &PersonClaims,
        access_token: &str,
        now: DateTime<Utc>,
    ) -> Result<EsiaLinkIdToken> {
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| Error::Internal(format!("issuer URL: {e}")))?;
        let sub = self.subjects.subject(client, &grant.sign_in.account_id);
        let standard = standard_claims(sub, grant.scopes, person);
        let additional = ProviderClaims {
            sid: Some(grant.sign_in.session_id.clone()),
            diary: diary_claim(grant.scopes, person),
        };
        let claims = EsiaLinkIdTokenClaims::new(
            issuer,
            vec![Audience::new(client.id.clone())],
            now + self.lifetimes.id_token(),
            now,
            standard,
            additional,
        )
        .set_auth_time(Some(grant.sign_in.auth_time))
        .set_nonce(grant.nonce.clone().map(Nonce::new))
        .set_auth_context_ref(Some(AuthenticationContextClass::new(
            grant.sign_in.acr.as_str().to_string(),
        )))
        .set_auth_method_refs(Some(
            grant
                .sign_in
                .amr
                .iter()
                .map(|a| AuthenticationMethodReference::new(a.as_str().to_string()))
                .collect(),
        ));
        let key = self.keys.signing_key(client.id_token_alg, now)?;
        EsiaLinkIdToken::new(
            claims,
            key,
            client.id_token_alg.to_core(),
            Some(&AccessToken::new(access_token.to_string())),
            None,
        )
        .map_err(|e| Error::Internal(format!("ID token for {}: {e}", client.id)))
    }
}

/// `sub` and, under scope `profile`, the name parts: shared by the ID
/// token and userinfo, which must agree (OpenID Connect Core §5.3.2).
pub(crate) fn standard_claims(
    sub: String,
    scopes: Scopes,
    person: &PersonClaims,
) -> StandardClaims<CoreGenderClaim> {
    let standard = StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(sub));
    match (&person.name, scopes.contains(Scope::Profile)) {
        (Some(name), true) => standard
            .set_name(Some(localized(EndUserName::new(name.full()))))
            .set_family_name(Some(localized(EndUserFamilyName::new(
                name.family_name.clone(),
            ))))
            .set_given_name(Some(localized(EndUserGivenName::new(
                name.given_name.clone(),
            ))))
            .set_middle_name(
                name.middle_name
                    .clone()
                    .map(|m| localized(EndUserMiddleName::new(m))),
            ),
        _ => standard,
    }
}

pub(crate) fn diary_claim(scopes: Scopes, person: &PersonClaims) -> Option<serde_json::Value> {
    if scopes.contains(Scope::Diary) {
        person.diary.clone()
    } else {
        None
    }
}

fn localized<T>(value: T) -> LocalizedClaim<T> {
    let mut claim = LocalizedClaim::new();
    claim.insert(None, value);
    claim
}

/// What RP-initiated logout reads from an `id_token_hint`.
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenHintClaims {
    pub iss: String,
    pub exp: i64,
    /// openidconnect writes `aud` as an array; other issuers may not, but
    /// only our own tokens verify here.
    pub aud: Vec<String>,
    pub sub: String,
    #[serde(default)]
    pub sid: Option<String>,
}

impl RegisteredClaims for IdTokenHintClaims {
    fn iss(&self) -> &str {
        &self.iss
    }
    fn exp(&self) -> i64 {
        self.exp
    }
}
