//! The callback's first half: the login transaction is found, checked and
//! claimed by this request alone, and the IdP's code is redeemed at most
//! once. A temporary failure (a store down, the IdP not answering) keeps
//! the login usable: the claim is released and, once the code was
//! redeemed, the IdP's verified answer is kept with the transaction, so the
//! same callback tried again finishes the login without the code. A final
//! outcome uses the login up.

use std::time::Duration;

use super::{tx_key, CallbackParams, Completed, LoginTransaction, OutcomeReport};
use crate::{AppError, Logins};
use domain::code::ReferenceCode;
use ephemeral::sessions::{token_hash, tokens_equal};
use ephemeral::typed::{get_json, put_json};
use federation::{FederatedPerson, FederationError, PendingLogin};

/// One request at a time finishes a login: it holds the login's claim for
/// at most this long (longer than the IdP calls of one callback take).
pub const LOGIN_CLAIM_TTL: Duration = Duration::from_secs(60);

impl Logins<'_> {
    pub(super) async fn try_complete(
        &self,
        provider_id: &str,
        params: &CallbackParams,
        browser_token: Option<&str>,
    ) -> Result<Completed, AppError> {
        let provider = self
            .providers
            .get(provider_id)
            .ok_or(AppError::UnknownProvider)?;
        // Refused before the state is looked up: the login stays usable and
        // no code is redeemed.
        if let Some(name) = &params.repeated {
            return Err(AppError::RepeatedParameter(name.clone()));
        }
        let state = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or(AppError::StateMissing)?;
        let key = tx_key(state);
        let transaction: LoginTransaction = get_json(self.ephemeral.as_ref(), &key)
            .await?
            .ok_or(AppError::StateUnknown)?;
        check_owner(&transaction, provider_id, browser_token)?;
        // One request at a time: a double click, or a retry while the first
        // try still runs, waits its turn instead of redeeming the code again.
        let claim = claim_key(state);
        if !self
            .ephemeral
            .put_if_absent(&claim, b"1", LOGIN_CLAIM_TTL)
            .await?
        {
            return Err(AppError::LoginBusy);
        }
        let finished = self.finish_claimed(&provider, params, state, &key).await;
        match &finished {
            Err(error) if error.is_temporary() => {
                // The login stays usable: the retry takes the claim again.
                if let Err(error) = self.ephemeral.delete(&claim).await {
                    tracing::warn!(%error, "a kept login stays busy until its claim expires");
                }
            }
            _ => {
                // Used up. The claim is left to expire: a request that read
                // the transaction before it went finds the login busy.
                if let Err(error) = self.ephemeral.delete(&key).await {
                    tracing::warn!(%error, "a finished login's transaction lingers until it expires");
                }
            }
        }
        finished
    }

    /// Finishes a login whose claim this request holds: redeems the code
    /// (unless an earlier try already did and kept the verified answer),
    /// then decides and applies. A temporary failure after the code was
    /// redeemed keeps the verified answer with the transaction.
    async fn finish_claimed(
        &self,
        provider: &federation::Provider,
        params: &CallbackParams,
        state: &str,
        key: &str,
    ) -> Result<Completed, AppError> {
        let provider_id = provider.id();
        // Read again under the claim: the request that held it before may
        // have kept a verified answer (or finished the login).
        let mut transaction: LoginTransaction = get_json(self.ephemeral.as_ref(), key)
            .await?
            .ok_or(AppError::StateUnknown)?;
        let person = match transaction.verified.take() {
            Some(person) => person,
            None => match self.redeem(provider, params, state, &transaction).await {
                Ok(person) => person,
                Err(error) if error.is_temporary() => {
                    return Err(AppError::ProviderUnavailable(error));
                }
                Err(error) => {
                    let reference = ReferenceCode::generate();
                    crate::telemetry::idp_error(provider_id, &error.code());
                    tracing::warn!(provider = provider_id, code = %error.code(), error = %error, reference = %reference, "identity provider step failed");
                    let report =
                        OutcomeReport::idp_error(&reference, provider_id, &error, transaction.lang);
                    self.record(&report, None, None).await?;
                    return Ok(Completed::Failure {
                        report,
                        pending_link: None,
                    });
                }
            },
        };
        let finished = self
            .decide_and_apply(&person, &transaction, ReferenceCode::generate())
            .await;
        if matches!(&finished, Err(error) if error.is_temporary()) {
            let ttl = transaction.remaining();
            transaction.verified = Some(person);
            if let Err(error) = put_json(self.ephemeral.as_ref(), key, &transaction, ttl).await {
                tracing::warn!(%error, "the verified answer was not kept: a retry needs the code again");
            }
        }
        finished
    }

    /// The IdP's answer to the callback: its error, or the person behind
    /// the code (the code exchange, token checks and person data).
    async fn redeem(
        &self,
        provider: &federation::Provider,
        params: &CallbackParams,
        state: &str,
        transaction: &LoginTransaction,
    ) -> Result<FederatedPerson, FederationError> {
        let provider_id = provider.id();
        // RFC 9207, before the code is redeemed (and on error answers too).
        provider.check_iss_parameter(params.iss.as_deref()).await?;
        if let Some(error) = &params.error {
            return Err(federation::esia::refusal_from_redirect(
                error,
                params.error_description.as_deref(),
            ));
        }
        let code = params
            .code
            .as_deref()
            .filter(|code| !code.is_empty() && code.len() <= 4096)
            .ok_or_else(|| {
                FederationError::BadResponse("the callback carries neither code nor error".into())
            })?;
        let redirect_uri = self.redirect_uri(provider_id);
        let started = std::time::Instant::now();
        let answer = provider
            .finish(
                code,
                &PendingLogin {
                    state,
                    nonce: transaction.nonce.as_deref(),
                    pkce_verifier: transaction.pkce_verifier.as_deref(),
                    redirect_uri: &redirect_uri,
                },
            )
            .await;
        crate::telemetry::idp_seconds(provider_id, started.elapsed().as_secs_f64());
        if let Err(error) = &answer {
            if error.is_temporary() {
                crate::telemetry::idp_error(provider_id, &error.code());
            }
        }
        answer
    }
}

/// The login was started in this browser, for this provider.
fn check_owner(
    transaction: &LoginTransaction,
    provider_id: &str,
    browser_token: Option<&str>,
) -> Result<(), AppError> {
    let same_browser =
        browser_token.is_some_and(|token| tokens_equal(&token_hash(token), &transaction.browser));
    if !same_browser {
        return Err(AppError::OtherBrowser);
    }
    if transaction.provider != provider_id {
        return Err(AppError::StateUnknown);
    }
    Ok(())
}

fn claim_key(state: &str) -> String {
    format!("login-claim:{state}")
}
