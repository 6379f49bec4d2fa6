//! What an app or a diary back end does with a token: read the person
//! (`/oauth2/userinfo`), ask whether it is live (`/oauth2/introspect`,
//! RFC 7662), give it up (`/oauth2/revoke`, RFC 7009).

use std::time::Duration;

use ::provider::introspect::{PresentedToken, Revocation};
use ::provider::params::Params;
use ::provider::refresh::RefreshFamily;
use ::provider::tokens::AccessTokenClaims;
use ::provider::userinfo::bearer_token;
use std::sync::Arc;

use ::provider::clients::Client;
use ::provider::{Error, Provider};
use store::GrantsOf;

use super::DirectAnswer;
use crate::{AppError, Apps};

fn deny_key(jti: &str) -> String {
    format!("app-deny:{}", ephemeral::sessions::token_hash(jti))
}

impl Apps<'_> {
    /// `GET/POST /oauth2/userinfo` with `Authorization: Bearer …`.
    pub async fn userinfo(&self, authorization: Option<&str>) -> Result<DirectAnswer, AppError> {
        let provider = self.provider()?.clone();
        let claims = match bearer_token(authorization)
            .and_then(|token| provider.verify_access_token(token, self.now()))
        {
            Ok(claims) => claims,
            Err(error) => return Ok(DirectAnswer::error(&error, "userinfo")),
        };
        let Some(grant) = self.live_grant(&claims).await? else {
            return Ok(DirectAnswer::error(
                &Error::InvalidToken("the access token was revoked".into()),
                "userinfo",
            ));
        };
        let person = self.person_claims(&grant.sign_in.account_id).await;
        let person = match person {
            Ok(person) => person,
            Err(AppError::NotFound) | Err(AppError::Store(store::StoreError::NotFound)) => {
                return Ok(DirectAnswer::error(
                    &Error::InvalidToken("the account no longer exists".into()),
                    "userinfo",
                ))
            }
            Err(other) => return Err(other),
        };
        match provider.userinfo(&claims, &person) {
            Ok(answer) => DirectAnswer::of(&answer),
            Err(error) => Ok(DirectAnswer::error(&error, "userinfo")),
        }
    }

    /// `POST /oauth2/introspect` by an authenticated confidential client.
    pub async fn introspect(
        &self,
        authorization: Option<&str>,
        body: &str,
    ) -> Result<DirectAnswer, AppError> {
        let provider = self.provider()?.clone();
        let params = Params::parse(body);
        let (caller, token) = match self
            .caller_and_token(&provider, authorization, &params, "introspect")
            .await?
        {
            Ok(found) => found,
            Err(refused) => return Ok(refused),
        };
        if let Err(error) = provider.check_introspection_caller(caller) {
            return Ok(DirectAnswer::error(&error, "introspect"));
        }
        let now = self.now();
        let answer = match provider.classify_token(token, now) {
            PresentedToken::Access(claims) => {
                let revoked = self.live_grant(&claims).await?.is_none();
                provider.introspect_access(&claims, caller, revoked)
            }
            PresentedToken::Refresh(presented) => {
                let family = self.load_family(presented.family_id).await?;
                provider.introspect_refresh(&presented, family.as_ref(), caller, now)
            }
            PresentedToken::IdToken | PresentedToken::Unknown => ::provider::introspect::inactive(),
        };
        DirectAnswer::of(&answer)
    }

    /// `POST /oauth2/revoke`: 200 with an empty body whenever the request
    /// itself was sound, whether or not the token meant anything.
    pub async fn revoke(
        &self,
        authorization: Option<&str>,
        body: &str,
    ) -> Result<DirectAnswer, AppError> {
        let provider = self.provider()?.clone();
        let params = Params::parse(body);
        let (caller, token) = match self
            .caller_and_token(&provider, authorization, &params, "revoke")
            .await?
        {
            Ok(found) => found,
            Err(refused) => return Ok(refused),
        };
        let presented = provider.classify_token(token, self.now());
        let family = match &presented {
            PresentedToken::Refresh(presented) => self.load_family(presented.family_id).await?,
            _ => None,
        };
        let actor = format!("client:{}", caller.id);
        match provider.revocation(presented, family.as_ref(), caller) {
            Err(error) => return Ok(DirectAnswer::error(&error, "revoke")),
            Ok(Revocation::Nothing) => {}
            Ok(Revocation::RevokeFamily(id)) => {
                let ended = self
                    .store()
                    .revoke_app_grants(GrantsOf::Grant(id), &actor, "revoked by the app")
                    .await?;
                crate::telemetry::app_grants_revoked("app_revocation", ended.len());
            }
            Ok(Revocation::RevokeAccessToken {
                jti,
                until,
                family_id,
            }) => {
                let ttl =
                    (until - self.now()).to_std().unwrap_or_default() + Duration::from_secs(1);
                self.ephemeral().put(&deny_key(&jti), b"1", ttl).await?;
                let ended = self
                    .store()
                    .revoke_app_grants(GrantsOf::Grant(family_id), &actor, "revoked by the app")
                    .await?;
                crate::telemetry::app_grants_revoked("app_revocation", ended.len());
            }
        }
        Ok(DirectAnswer {
            status: 200,
            body: None,
            www_authenticate: None,
            no_store: true,
        })
    }

    /// The authenticated client calling `/oauth2/{endpoint}` and the
    /// `token` it asks about, or the spec's refusal.
    async fn caller_and_token<'p>(
        &self,
        provider: &'p Arc<Provider>,
        authorization: Option<&str>,
        params: &'p Params,
        endpoint: &'static str,
    ) -> Result<Result<(&'p Client, &'p str), DirectAnswer>, AppError> {
        let path = match endpoint {
            "introspect" => "/oauth2/introspect",
            _ => "/oauth2/revoke",
        };
        let caller = match self
            .authenticate(provider, authorization, params, path)
            .await?
        {
            Ok(caller) => caller,
            Err(error) => return Ok(Err(DirectAnswer::error(&error, endpoint))),
        };
        let Some(caller) = provider.clients.get(&caller) else {
            return Err(AppError::NotFound);
        };
        match params.get("token") {
            Some(token) => Ok(Ok((caller, token))),
            None => Ok(Err(DirectAnswer::error(
                &Error::invalid_request("token is required"),
                endpoint,
            ))),
        }
    }

    /// The grant behind a verified access token, unless the token was
    /// revoked since: its `jti` denied, or its grant revoked or gone.
    async fn live_grant(
        &self,
        claims: &AccessTokenClaims,
    ) -> Result<Option<RefreshFamily>, AppError> {
        if self
            .ephemeral()
            .get(&deny_key(&claims.jti))
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let grant = self.load_family(claims.token_family).await?;
        Ok(grant.filter(|g| !g.revoked))
    }
}
