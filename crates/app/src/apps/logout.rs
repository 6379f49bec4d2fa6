//! Sessions ending, as the diary's apps hear of it: RP-initiated logout
//! (`/oauth2/logout`), the grants a session's end revokes, and the
//! back-channel logout tokens owed to the apps (OpenID Back-Channel
//! Logout 1.0), sent from a durable queue with retries.

use std::time::Duration;

use ::provider::params::Params;
use ephemeral::sessions::{session_sid, tokens_equal};
use store::{GrantsOf, LogoutDelivery};
use uuid::Uuid;

use crate::shared::Session;
use crate::{AppError, Apps};

/// Attempts before a delivery is given up (and audited): with the backoff
/// below, about a day of an app being down.
const DELIVERY_ATTEMPTS: u32 = 16;
/// How long a claimed delivery is held by the instance sending it.
const DELIVERY_HOLD: Duration = Duration::from_secs(60);
/// One delivery's wait for the app.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// One round of back-channel deliveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deliveries {
    pub delivered: usize,
    /// Failed this time, tried again later.
    pub retrying: usize,
}

/// What `/oauth2/logout` does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutStep {
    /// A malformed request (a foreign `id_token_hint`, an unregistered
    /// `post_logout_redirect_uri`): our page with `detail`, no redirect.
    Refused { detail: String },
    /// Ask the person first (the request may come from any page on the
    /// web): the form posts the same parameters back with the CSRF token.
    Confirm {
        client_name_ru: String,
        client_name_en: String,
    },
    /// Logged out: to the app's `post_logout_redirect_uri`, or our page.
    LoggedOut { redirect: Option<String> },
}

impl LogoutStep {
    fn refused(error: &::provider::Error) -> LogoutStep {
        LogoutStep::Refused {
            detail: error.description().unwrap_or(error.code()).to_string(),
        }
    }
}

impl Apps<'_> {
    /// `GET /oauth2/logout?…` (or its POST without confirmation).
    pub async fn logout(
        &self,
        query: &str,
        session: Option<&Session>,
    ) -> Result<LogoutStep, AppError> {
        let provider = self.provider()?;
        let request = match provider.parse_logout_request(&Params::parse(query), self.now()) {
            Ok(request) => request,
            Err(error) => return Ok(LogoutStep::refused(&error)),
        };
        let Some(session) = session else {
            return Ok(LogoutStep::LoggedOut {
                redirect: request.redirect_location(),
            });
        };
        let sid = session_sid(&session.id);
        if request.needs_confirmation(Some(&sid)) {
            let client = request
                .client_id
                .as_deref()
                .and_then(|id| provider.clients.get(id));
            return Ok(LogoutStep::Confirm {
                client_name_ru: client.map(|c| c.name_ru.clone()).unwrap_or_default(),
                client_name_en: client.map(|c| c.name_en.clone()).unwrap_or_default(),
            });
        }
        self.end_session(session).await?;
        Ok(LogoutStep::LoggedOut {
            redirect: request.redirect_location(),
        })
    }

    /// The person confirmed the logout an app asked for.
    pub async fn confirm_logout(
        &self,
        query: &str,
        session: Option<&Session>,
        csrf: &str,
    ) -> Result<LogoutStep, AppError> {
        let provider = self.provider()?;
        let request = match provider.parse_logout_request(&Params::parse(query), self.now()) {
            Ok(request) => request,
            Err(error) => return Ok(LogoutStep::refused(&error)),
        };
        if let Some(session) = session {
            if !tokens_equal(csrf, &session.data.csrf) {
                return Err(AppError::CsrfMismatch);
            }
            self.end_session(session).await?;
        }
        Ok(LogoutStep::LoggedOut {
            redirect: request.redirect_location(),
        })
    }

    async fn end_session(&self, session: &Session) -> Result<(), AppError> {
        self.sessions.destroy(&session.id).await?;
        self.session_ended(session, "account", "logout").await
    }

    /// One browser session ended: its apps hear of it, and its grants end
    /// except those the person kept past it (`offline_access`).
    pub(crate) async fn session_ended(
        &self,
        session: &Session,
        actor: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        if !self.enabled() {
            return Ok(());
        }
        let sid = session_sid(&session.id);
        let told = self.store().app_sessions(GrantsOf::Session(&sid)).await?;
        let ended = self
            .store()
            .revoke_app_grants(GrantsOf::Session(&sid), actor, reason)
            .await?;
        crate::telemetry::app_grants_revoked("session_end", ended.len());
        self.store().queue_logout_deliveries(&told).await?;
        self.logouts_queued.notify_one();
        Ok(())
    }

    /// Every session of the account ended ("log out everywhere", an
    /// unlink, a password change, a lock): every grant ends and every app
    /// hears of each session it knew.
    pub(crate) async fn account_sessions_ended(
        &self,
        account_id: Uuid,
        actor: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        if !self.enabled() {
            return Ok(());
        }
        let ended = self
            .store()
            .revoke_app_grants(GrantsOf::Account(account_id), actor, reason)
            .await?;
        crate::telemetry::app_grants_revoked("account_sessions_end", ended.len());
        self.store().queue_logout_deliveries(&ended).await?;
        self.logouts_queued.notify_one();
        Ok(())
    }

    /// Resolves when this instance queued back-channel logouts.
    pub async fn logouts_queued(&self) {
        self.logouts_queued.notified().await;
    }

    /// Sends the back-channel logouts that are due; says how many were
    /// delivered and how many wait for a retry. Startup runs it when this
    /// instance queued some, and otherwise now and then on every instance
    /// (for retries, and for what an instance that stopped left behind; a
    /// delivery is claimed by one instance at a time).
    pub async fn deliver_logouts(&self) -> Result<Deliveries, AppError> {
        let mut done = Deliveries::default();
        if !self.enabled() {
            return Ok(done);
        }
        let due = self
            .store()
            .claim_logout_deliveries(20, DELIVERY_HOLD)
            .await?;
        if due.is_empty() {
            return Ok(done);
        }
        let client = federation::http_client(DELIVERY_TIMEOUT).map_err(AppError::Internal)?;
        for delivery in due {
            match self.deliver(&client, &delivery).await {
                Ok(()) => {
                    self.store().logout_delivered(delivery.id).await?;
                    crate::telemetry::app_logout_delivery("delivered");
                    done.delivered += 1;
                }
                Err(error) if delivery.attempts + 1 >= DELIVERY_ATTEMPTS => {
                    tracing::warn!(client = %delivery.session.client_id, %error, "back-channel logout given up");
                    self.store()
                        .logout_delivery_abandoned(&delivery, &error)
                        .await?;
                    crate::telemetry::app_logout_delivery("abandoned");
                }
                Err(error) => {
                    let wait = retry_after(delivery.attempts);
                    tracing::info!(client = %delivery.session.client_id, %error, retry_in_s = wait.num_seconds(), "back-channel logout failed");
                    self.store()
                        .logout_delivery_failed(delivery.id, self.now() + wait, &error)
                        .await?;
                    crate::telemetry::app_logout_delivery("retry");
                    done.retrying += 1;
                }
            }
        }
        Ok(done)
    }

    /// Drops grants that ended more than a day ago.
    pub async fn purge_ended_grants(&self) -> Result<u64, AppError> {
        Ok(self.store().purge_app_grants().await?)
    }

    async fn deliver(
        &self,
        http: &reqwest::Client,
        delivery: &LogoutDelivery,
    ) -> Result<(), String> {
        let provider = self.provider().map_err(|e| e.to_string())?;
        let session = &delivery.session;
        let Some(client) = provider.clients.get(&session.client_id) else {
            return Err("the client is no longer configured".into());
        };
        let minted = provider
            .backchannel_delivery(
                client,
                &session.account_id.to_string(),
                &session.session_id,
                self.now(),
            )
            .map_err(|e| e.to_string())?;
        let Some(minted) = minted else {
            // No back-channel URI: nothing to tell; done.
            return Ok(());
        };
        let answer = http
            .post(minted.uri.as_str())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(minted.form_body())
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("the app answered {}", answer.status().as_u16()))
        }
    }
}

/// 10 s, 20 s, 40 s, … at most 4 h between attempts.
fn retry_after(attempts: u32) -> chrono::Duration {
    let seconds = 10i64.saturating_mul(1i64 << attempts.min(20));
    chrono::Duration::seconds(seconds.min(4 * 3600))
}

#[cfg(test)]
mod tests {
    use super::retry_after;

    #[test]
    fn retries_back_off_to_four_hours() {
        let waits: Vec<i64> = [0, 1, 2, 5, 10, 30]
            .into_iter()
            .map(|a| retry_after(a).num_seconds())
            .collect();
        assert_eq!(waits, vec![10, 20, 40, 320, 10240, 14400]);
    }
}
