//! `POST /oauth2/token`: a code or a refresh token for tokens.

use std::sync::Arc;
use std::time::Duration;

use ::provider::client_auth::ClientAuthentication;
use ::provider::clients::Client;
use ::provider::code::{code_hash, redeem, CodeExchange, CodeRecord, CodeUse, CODE_LIFETIME_SECS};
use ::provider::params::Params;
use ::provider::refresh::{rotate, start_family, PresentedRefreshToken, RefreshFamily, Rotation};
use ::provider::token_request::{parse_token_request, TokenRequest};
use ::provider::tokens::Grant;
use ::provider::{Error, Provider};
use ephemeral::typed::{get_json, put_json, take_json};
use store::{GrantsOf, NewAppGrant};
use uuid::Uuid;

use super::authorize::code_key;
use super::DirectAnswer;
use crate::{AppError, Apps};

/// Refused token requests per client address and minute before the rest
/// are refused unread: a guesser of codes, refresh tokens or secrets needs
/// many, while a diary's server exchanging codes for thousands of families
/// from one address is never refused for being busy.
const REFUSALS_PER_MINUTE: u64 = 30;

fn used_code_key(hash: &str) -> String {
    format!("app-code-used:{hash}")
}

fn jti_key(client: &str, jti: &str) -> String {
    format!(
        "app-jti:{}",
        ephemeral::sessions::token_hash(&format!("{client}\n{jti}"))
    )
}

impl Apps<'_> {
    /// The token endpoint: `authorization` is the `Authorization` header,
    /// `body` the form, `caller` the client's address (rate limit).
    pub async fn token(
        &self,
        authorization: Option<&str>,
        body: &str,
        caller: &str,
    ) -> Result<DirectAnswer, AppError> {
        let provider = self.provider()?.clone();
        let bucket = format!("app-token-refused:{caller}");
        if self.rate.current(&bucket).await? >= REFUSALS_PER_MINUTE {
            crate::telemetry::rate_limited("app_token");
            return Ok(DirectAnswer::error(
                &Error::invalid_request("too many refused token requests; try again in a minute"),
                "token",
            )
            .with_status(429));
        }
        let answer = self.token_answer(&provider, authorization, body).await?;
        if answer.status >= 400 {
            self.rate
                .hit(&bucket, REFUSALS_PER_MINUTE, Duration::from_secs(60))
                .await?;
        }
        Ok(answer)
    }

    async fn token_answer(
        &self,
        provider: &Arc<Provider>,
        authorization: Option<&str>,
        body: &str,
    ) -> Result<DirectAnswer, AppError> {
        let params = Params::parse(body);
        let client = match self
            .authenticate(provider, authorization, &params, "/oauth2/token")
            .await?
        {
            Ok(client) => client,
            Err(error) => return Ok(DirectAnswer::error(&error, "token")),
        };
        let Some(client) = provider.clients.get(&client) else {
            return Ok(DirectAnswer::error(
                &Error::invalid_client("client authentication failed", false),
                "token",
            ));
        };
        let request = match parse_token_request(&params) {
            Ok(request) => request,
            Err(error) => return Ok(DirectAnswer::error(&error, "token")),
        };
        let answer = match request {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                let exchange = CodeExchange {
                    client_id: &client.id,
                    redirect_uri,
                    code_verifier,
                };
                self.code_grant(provider, client, code, &exchange).await?
            }
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
            } => {
                self.refresh_grant(provider, client, refresh_token, scope)
                    .await?
            }
        };
        Ok(answer.unwrap_or_else(|error| DirectAnswer::error(&error, "token")))
    }

    /// Authenticates the calling client: a secret's argon2 check off the
    /// async threads (memoized after the first), a `private_key_jwt`
    /// assertion's `jti` recorded once. `Ok(Err(_))` is the spec's refusal.
    pub(super) async fn authenticate(
        &self,
        provider: &Arc<Provider>,
        authorization: Option<&str>,
        params: &Params,
        endpoint: &'static str,
    ) -> Result<Result<String, Error>, AppError> {
        let now = self.now();
        if params.get("client_assertion").is_some() {
            return match provider.authenticate_client(authorization, params, endpoint, now) {
                Ok(ClientAuthentication::Authenticated(client)) => Ok(Ok(client.id.clone())),
                Ok(ClientAuthentication::PendingReplayCheck(pending)) => {
                    let ttl = (pending.expires_at - now).to_std().unwrap_or_default()
                        + Duration::from_secs(1);
                    let first_use = self
                        .ephemeral()
                        .put_if_absent(&jti_key(pending.client_id(), &pending.jti), b"1", ttl)
                        .await?;
                    Ok(pending.finish(first_use).map(|client| client.id.clone()))
                }
                Err(error) => Ok(Err(error)),
            };
        }
        // A public client proves nothing and costs nothing to check: no
        // thread hand-off for it.
        if authorization.is_none() && params.get("client_secret").is_none() {
            return Ok(client_id(
                provider.authenticate_client(None, params, endpoint, now),
            ));
        }
        let provider = provider.clone();
        let authorization = authorization.map(str::to_string);
        let params = params.clone();
        tokio::task::spawn_blocking(move || {
            client_id(provider.authenticate_client(
                authorization.as_deref(),
                &params,
                endpoint,
                now,
            ))
        })
        .await
        .map_err(|e| AppError::Internal(format!("client authentication task: {e}")))
    }

    async fn code_grant(
        &self,
        provider: &Provider,
        client: &Client,
        code: &str,
        exchange: &CodeExchange<'_>,
    ) -> Result<Result<DirectAnswer, Error>, AppError> {
        let hash = code_hash(code);
        let store = self.ephemeral().as_ref();
        let (record, state) = match take_json::<CodeRecord>(store, &code_key(&hash)).await? {
            Some(record) => {
                // Kept until the code would have expired anyway, so that a
                // replay within its life revokes what the first use got.
                put_json(
                    store,
                    &used_code_key(&hash),
                    &record,
                    Duration::from_secs(CODE_LIFETIME_SECS.unsigned_abs() * 2),
                )
                .await?;
                (record, CodeUse::FirstUse)
            }
            None => match get_json::<CodeRecord>(store, &used_code_key(&hash)).await? {
                Some(record) => (record, CodeUse::AlreadyRedeemed),
                None => return Ok(Err(Error::invalid_grant("unknown or expired code"))),
            },
        };
        let grant = match redeem(&record, state, exchange, self.now()) {
            Ok(grant) => grant,
            Err(refusal) => {
                if let Some(family) = refusal.revoke_family {
                    let ended = self
                        .store()
                        .revoke_app_grants(
                            GrantsOf::Grant(family),
                            &format!("client:{}", client.id),
                            "authorization code replayed",
                        )
                        .await?;
                    crate::telemetry::app_grants_revoked("code_replay", ended.len());
                }
                return Ok(Err(refusal.error));
            }
        };
        let (refresh_token, family) =
            start_family(&grant, provider.lifetimes.refresh_family(), self.now())
                .map_err(|e| AppError::Internal(e.to_string()))?;
        let account_id =
            Uuid::parse_str(&grant.sign_in.account_id).map_err(|_| AppError::NotFound)?;
        self.store()
            .insert_app_grant(&NewAppGrant {
                id: family.id,
                client_id: &family.client_id,
                account_id,
                session_id: &family.sign_in.session_id,
                offline: family.offline(),
                generation: family.generation,
                expires_at: family.expires_at,
                record: &family_json(&family)?,
            })
            .await?;
        crate::telemetry::app_grant("authorization_code", &client.id);
        // Without `offline_access` the refresh token lives only as long as
        // the person's session here: its end revokes the grant.
        self.tokens(provider, &grant, client, Some(refresh_token))
            .await
    }

    async fn refresh_grant(
        &self,
        provider: &Provider,
        client: &Client,
        token: &str,
        scope: Option<&str>,
    ) -> Result<Result<DirectAnswer, Error>, AppError> {
        let unknown = || Ok(Err(Error::invalid_grant("unknown refresh token")));
        let Some(presented) = PresentedRefreshToken::parse(token) else {
            return unknown();
        };
        let Some(family) = self.load_family(presented.family_id).await? else {
            return unknown();
        };
        let rotation = rotate(
            &family,
            &presented,
            &client.id,
            scope,
            provider.lifetimes.refresh_reuse_grace(),
            self.now(),
        );
        match rotation {
            Rotation::Refused(error) => Ok(Err(error)),
            Rotation::ReuseDetected { family_id, error } => {
                let ended = self
                    .store()
                    .revoke_app_grants(
                        GrantsOf::Grant(family_id),
                        &format!("client:{}", client.id),
                        "refresh token used twice",
                    )
                    .await?;
                crate::telemetry::app_grants_revoked("refresh_reuse", ended.len());
                Ok(Err(error))
            }
            Rotation::Rotated {
                token,
                family: next,
                grant,
            } => {
                let swapped = self
                    .store()
                    .rotate_app_grant(
                        next.id,
                        family.generation,
                        next.generation,
                        &family_json(&next)?,
                    )
                    .await?;
                if !swapped {
                    // Another request rotated it a moment ago: one wins.
                    return Ok(Err(Error::invalid_grant(
                        "the refresh token was used by another request",
                    )));
                }
                crate::telemetry::app_grant("refresh_token", &client.id);
                self.tokens(provider, &grant, client, Some(token)).await
            }
        }
    }

    /// The stored family, marked revoked if its row was.
    pub(super) async fn load_family(&self, id: Uuid) -> Result<Option<RefreshFamily>, AppError> {
        let Some(stored) = self.store().app_grant(id).await? else {
            return Ok(None);
        };
        let mut family: RefreshFamily = serde_json::from_str(&stored.record)
            .map_err(|e| AppError::Internal(format!("a stored grant does not parse: {e}")))?;
        family.revoked |= stored.revoked;
        Ok(Some(family))
    }

    async fn tokens(
        &self,
        provider: &Provider,
        grant: &Grant,
        client: &Client,
        refresh_token: Option<String>,
    ) -> Result<Result<DirectAnswer, Error>, AppError> {
        let person = self.person_claims(&grant.sign_in.account_id).await?;
        let issued = match provider.issue_tokens(grant, client, &person, refresh_token, self.now())
        {
            Ok(issued) => issued,
            Err(error) => return Ok(Err(error)),
        };
        DirectAnswer::of(&issued.response(self.now())).map(Ok)
    }
}

/// The authenticated client's id; only an assertion asks for a replay
/// check, and assertions are checked apart.
fn client_id(checked: Result<ClientAuthentication<'_>, Error>) -> Result<String, Error> {
    match checked? {
        ClientAuthentication::Authenticated(client) => Ok(client.id.clone()),
        ClientAuthentication::PendingReplayCheck(_) => {
            Err(Error::invalid_client("client authentication failed", false))
        }
    }
}

fn family_json(family: &RefreshFamily) -> Result<String, AppError> {
    serde_json::to_string(family)
        .map_err(|e| AppError::Internal(format!("cannot store a grant: {e}")))
}

impl DirectAnswer {
    pub(super) fn with_status(mut self, status: u16) -> DirectAnswer {
        self.status = status;
        self
    }
}
