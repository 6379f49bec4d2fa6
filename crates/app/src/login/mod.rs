//! The login use cases: start a login transaction; on the callback check it,
//! ask the IdP (`callback`: claimed by one request, the code redeemed at
//! most once, kept usable through a temporary failure), run the link
//! decision, write the link, record the attempt and open a session.
//!
//! Database round trips on the callback (data statements): a returning login
//! runs one joined lookup on the request path, its attempt and last-login
//! update go to the [`journal::Journal`] (written behind, in batches); a
//! first link runs the lookup, the link and its audit row (the attempt is
//! journaled); a failure runs the lookup and writes its attempt before the
//! page that shows the reference code.

mod callback;
pub mod candidates;
pub mod credentials;
pub mod journal;
pub mod kids;
pub mod refusals;
pub mod report;

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::{AppError, Logins};
use domain::code::ReferenceCode;
use domain::link::{decide, IdpPerson, LinkOutcome};
use domain::name::FullName;
use domain::snils::Snils;
use ephemeral::sessions::{random_token, token_hash};
use ephemeral::typed::{get_json, put_json};
use federation::{mask_subject, FederatedPerson, FederationError};
use i18n::Lang;
use store::{NewAttempt, NewLink, StoreError};

pub use callback::LOGIN_CLAIM_TTL;
pub use report::{OutcomeReport, PartReport};

/// A login transaction lives this long between start and callback.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);
/// The outcome page's report is kept this long after the callback.
pub const OUTCOME_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginTransaction {
    pub provider: String,
    pub state: String,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    pub return_to: Option<String>,
    /// SHA-256 of the browser cookie.
    pub browser: String,
    pub lang: Lang,
    pub created_at: i64,
    /// The IdP's verified answer, kept when the code was redeemed but the
    /// login could not finish (a store down): the retry goes on from here
    /// and never sends the code again.
    #[serde(default)]
    pub verified: Option<FederatedPerson>,
}

impl LoginTransaction {
    /// What is left of the transaction's life (at least a second).
    fn remaining(&self) -> Duration {
        let age = Utc::now().timestamp().saturating_sub(self.created_at);
        let left = i64::try_from(LOGIN_TTL.as_secs())
            .unwrap_or(i64::MAX)
            .saturating_sub(age);
        Duration::from_secs(u64::try_from(left).unwrap_or(0).max(1))
    }
}

pub struct Started {
    pub authorize_url: String,
    /// Value for the browser-binding cookie.
    pub browser_token: String,
}

/// What the IdP sent back to `/auth/callback/{provider}`.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// RFC 9207: the issuer of the authorization response.
    pub iss: Option<String>,
    /// The first of these parameters the query repeats (RFC 6749 §3.1).
    #[serde(default)]
    pub repeated: Option<String>,
}

pub enum Completed {
    /// Logged in; the cookie value of the new session and where to go.
    Success {
        session_id: String,
        redirect_to: String,
        report: OutcomeReport,
    },
    /// Not logged in; the report explains why (also for a refused callback).
    /// `pending_link` is set when the identity can still be linked with the
    /// diary password (no SNILS at the IdP, or no account with it).
    Failure {
        report: OutcomeReport,
        pending_link: Option<String>,
    },
    /// Too many refused callbacks from this client address: answered
    /// without a record or a stored outcome (a flood stays cheap).
    Throttled,
    /// A temporary failure (a store down, the IdP not answering, the login
    /// busy in another request), recorded under `reference`. The login is
    /// kept: the same callback, once the cause has passed, finishes it.
    Interrupted { error: AppError, reference: String },
}

impl Logins<'_> {
    /// Starts a login at `provider_id`; the browser goes to `authorize_url`.
    /// A refusal is recorded as an attempt so its reference can be looked up.
    pub async fn start_login(
        &self,
        provider_id: &str,
        return_to: Option<String>,
        lang: Lang,
        client: &str,
    ) -> Result<Started, (AppError, Option<OutcomeReport>)> {
        match self.try_start(provider_id, return_to, lang, client).await {
            Ok(started) => Ok(started),
            // Nothing from an unknown path is stored.
            Err(error @ AppError::UnknownProvider) => Err((error, None)),
            Err(error) => {
                let report = self.record_rejection(provider_id, &error, lang).await;
                Err((error, Some(report)))
            }
        }
    }

    async fn try_start(
        &self,
        provider_id: &str,
        return_to: Option<String>,
        lang: Lang,
        client: &str,
    ) -> Result<Started, AppError> {
        let provider = self
            .providers
            .get(provider_id)
            .ok_or(AppError::UnknownProvider)?;
        let limit = self.config.security.login_starts_per_minute;
        let decision = self
            .rate
            .hit(
                &format!("login-start:{client}"),
                limit,
                Duration::from_secs(60),
            )
            .await?;
        if !decision.allowed {
            crate::telemetry::rate_limited("login_start");
            return Err(AppError::RateLimited);
        }
        let redirect_uri = self.redirect_uri(provider_id);
        let started = provider
            .start(&redirect_uri)
            .await
            .map_err(AppError::ProviderUnavailable)?;
        let browser_token = random_token();
        let transaction = LoginTransaction {
            provider: provider_id.to_string(),
            state: started.state.clone(),
            nonce: started.nonce,
            pkce_verifier: started.pkce_verifier,
            return_to,
            browser: token_hash(&browser_token),
            lang,
            created_at: Utc::now().timestamp(),
            verified: None,
        };
        put_json(
            self.ephemeral.as_ref(),
            &tx_key(&started.state),
            &transaction,
            LOGIN_TTL,
        )
        .await?;
        Ok(Started {
            authorize_url: started.authorize_url,
            browser_token,
        })
    }

    /// Finishes a login. The state is checked before anything else. Every
    /// outcome a person can act on is `Ok` with a report; `Err` is the
    /// service's own failure (a store down) or an unknown provider.
    /// A successful login ends the browser's previous session
    /// (`previous_session`, its cookie value), whoever it belonged to.
    pub async fn complete_login(
        &self,
        provider_id: &str,
        params: &CallbackParams,
        browser_token: Option<&str>,
        previous_session: Option<&str>,
        client: &str,
        request_lang: Lang,
    ) -> Result<Completed, AppError> {
        match self.try_complete(provider_id, params, browser_token).await {
            Ok(completed) => {
                if let (Completed::Success { .. }, Some(previous)) = (&completed, previous_session)
                {
                    self.sessions.destroy(previous).await?;
                }
                Ok(completed)
            }
            Err(error @ AppError::UnknownProvider) => Err(error),
            Err(error) if error.is_temporary() => {
                // Still try to leave a trace that operators can find.
                let report = self
                    .record_rejection(provider_id, &error, request_lang)
                    .await;
                Ok(Completed::Interrupted {
                    error,
                    reference: report.reference,
                })
            }
            Err(error) => {
                let bogus = matches!(
                    error,
                    AppError::StateMissing
                        | AppError::StateUnknown
                        | AppError::OtherBrowser
                        | AppError::RepeatedParameter(_)
                );
                if bogus {
                    let decision = self
                        .rate
                        .hit(
                            &format!("bogus-callback:{client}"),
                            self.config.security.bogus_callbacks_per_minute,
                            Duration::from_secs(60),
                        )
                        .await?;
                    if !decision.allowed {
                        crate::telemetry::rate_limited("callback");
                        tracing::debug!(code = error.code(), "refused callback throttled");
                        return Ok(Completed::Throttled);
                    }
                }
                tracing::warn!(code = error.code(), "login callback rejected");
                let report = self
                    .record_rejection(provider_id, &error, request_lang)
                    .await;
                Ok(Completed::Failure {
                    report,
                    pending_link: None,
                })
            }
        }
    }

    async fn decide_and_apply(
        &self,
        person: &FederatedPerson,
        transaction: &LoginTransaction,
        reference: ReferenceCode,
    ) -> Result<Completed, AppError> {
        let lang = transaction.lang;
        let name = FullName::new(
            person.surname.as_deref().unwrap_or(""),
            person.given_name.as_deref().unwrap_or(""),
            person.patronymic.as_deref(),
        );
        let Ok(name) = name else {
            let error =
                FederationError::BadResponse("the profile has no surname or given name".into());
            let report = OutcomeReport::idp_error(&reference, &person.provider, &error, lang);
            self.record(&report, Some(person), None).await?;
            return Ok(Completed::Failure {
                report,
                pending_link: None,
            });
        };
        let snils = person
            .snils
            .as_deref()
            .and_then(|raw| Snils::parse(raw).ok());
        let idp_person = IdpPerson {
            provider: person.provider.clone(),
            subject: person.subject.clone(),
            name,
            snils: snils.clone(),
            birth_date: person.birth_date,
            tier: person.tier,
        };
        let policy = candidates::link_policy(&self.config, self.now().date_naive());
        let rows = self
            .store
            .login_candidates(
                &person.provider,
                &person.subject,
                snils.as_ref().map(Snils::digits),
            )
            .await?;
        // A trusted person's account is no link candidate (it has no
        // school), but its row is here when the identity is linked to it.
        let blocked: Vec<uuid::Uuid> = rows
            .iter()
            .filter(|row| row.account.status == "blocked")
            .map(|row| row.account.id)
            .collect();
        let found = candidates::split(rows, &person.subject, snils.as_ref());
        let (existing_account, existing_link) = match found.existing {
            Some((account, link_id)) => (Some(account), Some(link_id)),
            None => (None, None),
        };
        let by_snils = found.by_snils;
        let mut outcome = decide(&idp_person, existing_account.as_ref(), &by_snils, &policy);

        if let LinkOutcome::Linked { account_id, .. } = &outcome {
            let new_link = NewLink {
                provider: person.provider.clone(),
                subject: person.subject.clone(),
                account_id: *account_id,
                method: "auto_snils".into(),
                tier_at_link: person.tier.as_str().into(),
            };
            match self
                .store
                .create_link(&new_link, "system:login", "full name + SNILS matched")
                .await
            {
                Ok(_) => {}
                // Another callback won the race: the constraint decides, not luck.
                // If it linked this very identity to this account, we are logged in.
                Err(StoreError::AlreadyLinked(_)) => {
                    outcome = match self
                        .store
                        .find_link(&person.provider, &person.subject)
                        .await?
                    {
                        Some(link) if link.account_id == *account_id => LinkOutcome::LoggedIn {
                            account_id: *account_id,
                        },
                        _ => LinkOutcome::LinkedElsewhere {
                            account_id: *account_id,
                        },
                    };
                }
                Err(other) => return Err(other.into()),
            }
        }

        // A person a parent invited as a trusted person (surname + SNILS)
        // gets a lightweight `trusted` account and logs in.
        if matches!(outcome, LinkOutcome::SnilsMissing | LinkOutcome::NoAccount) {
            let claimant = crate::shared::TrustedClaimant {
                provider: person.provider.clone(),
                subject: person.subject.clone(),
                name: idp_person.name.clone(),
                snils: snils.clone(),
                birth_date: person.birth_date,
                tier: person.tier,
                verified_phone: None,
            };
            if let Some(account_id) = self.family().claim_trusted_invitations(&claimant).await? {
                outcome = if blocked.contains(&account_id) {
                    LinkOutcome::AccountBlocked { account_id }
                } else {
                    LinkOutcome::LoggedIn { account_id }
                };
            }
        }

        let account_region = outcome.account_id().and_then(|id| {
            existing_account
                .iter()
                .chain(by_snils.iter())
                .find(|c| c.account_id == id)
                .map(|c| i64::from(c.region.get()))
        });
        // -- #10: children confirmed from State Services data (app/kids.rs),
        // -- once the login or link succeeded; never fails the login. Before
        // -- the attempt is journaled, so its one read stays off the journal's
        // -- write-behind window.
        if let (true, Some(account_id)) = (outcome.is_success(), outcome.account_id()) {
            self.confirm_kids_after_login(account_id, account_region, &person.kids)
                .await;
        }
        // ---------------------------------------------------------------------
        let report = OutcomeReport::from_outcome(
            &reference,
            &idp_person,
            &outcome,
            &by_snils,
            account_region,
            lang,
        );
        self.record(&report, Some(person), snils.as_ref()).await?;
        tracing::info!(provider = %person.provider, subject = %mask_subject(&person.subject), outcome = report.outcome.as_str(), reference = %reference, "login attempt");

        let (true, Some(account_id)) = (outcome.is_success(), outcome.account_id()) else {
            let pending_link =
                if matches!(outcome, LinkOutcome::SnilsMissing | LinkOutcome::NoAccount) {
                    let identity = crate::login::credentials::PendingIdentity {
                        provider: person.provider.clone(),
                        subject: person.subject.clone(),
                        surname: idp_person.name.surname().to_string(),
                        given_name: idp_person.name.given().to_string(),
                        patronymic: idp_person.name.patronymic().map(str::to_string),
                        birth_date: person.birth_date,
                        tier: person.tier.as_str().to_string(),
                        reference: reference.to_string(),
                    };
                    Some(self.keep_pending_identity(&identity).await?)
                } else {
                    None
                };
            return Ok(Completed::Failure {
                report,
                pending_link,
            });
        };
        if let (LinkOutcome::LoggedIn { .. }, Some(link_id)) = (&outcome, existing_link) {
            self.journal.touch(link_id, self.now()).await?;
        }
        let session_id = self
            .sessions
            .create(
                account_id,
                &person.provider,
                &person.subject,
                matches!(outcome, LinkOutcome::Linked { .. }),
                Some(person.tier.as_str()),
            )
            .await?;
        let redirect_to = transaction
            .return_to
            .clone()
            .unwrap_or_else(|| self.config.server.diary_start_url.clone());
        Ok(Completed::Success {
            session_id,
            redirect_to,
            report,
        })
    }

    /// Records a refused request (bad state etc.) as an attempt so that
    /// operators can find the reference code the page showed. Temporary
    /// refusals (a store down) are recorded by sample (see [`refusals`]).
    async fn record_rejection(
        &self,
        provider_id: &str,
        error: &AppError,
        lang: Lang,
    ) -> OutcomeReport {
        let reference = ReferenceCode::generate();
        let mut report = OutcomeReport::flow_error(&reference, provider_id, error, lang);
        if error.is_temporary() {
            let code = report.idp_error.clone().unwrap_or_default();
            if let refusals::Sample::Counted { reference } =
                self.refusals.admit(provider_id, &code, &report.reference)
            {
                crate::telemetry::login_attempt(report.outcome.as_str(), &report.provider);
                crate::telemetry::refusal_unrecorded(&code);
                report.reference = reference;
                return report;
            }
        }
        if let Err(e) = self.record(&report, None, None).await {
            tracing::error!(error = %e, "cannot record a failed login attempt");
        }
        report
    }

    async fn record(
        &self,
        report: &OutcomeReport,
        person: Option<&FederatedPerson>,
        snils: Option<&Snils>,
    ) -> Result<(), StoreError> {
        crate::telemetry::login_attempt(report.outcome.as_str(), &report.provider);
        let attempt = NewAttempt {
            at: self.now(),
            reference_code: report.reference.clone(),
            provider: report.provider.chars().take(64).collect(),
            subject_masked: person.map(|p| mask_subject(&p.subject)),
            subject_hash: person
                .map(|p| self.lookup_hash("subject", &format!("{}:{}", p.provider, p.subject))),
            account_id: report.account_id,
            outcome: report.outcome.as_str().to_string(),
            region_code: report.region.map(i64::from),
            tier: person.map(|p| p.tier.as_str().to_string()),
            idp_error: report.idp_error.clone(),
            details: report.operator_details(person, snils),
            snils_hash: snils.map(|s| self.lookup_hash("snils", s.digits())),
        };
        if report.outcome.is_success() {
            self.journal.attempt(attempt).await
        } else {
            self.store.record_attempt(&attempt).await
        }
    }

    /// Keeps a report for the outcome page; returns the token for its cookie.
    pub async fn keep_outcome(&self, report: &OutcomeReport) -> Result<String, AppError> {
        let token = random_token();
        put_json(
            self.ephemeral.as_ref(),
            &outcome_key(&token),
            report,
            OUTCOME_TTL,
        )
        .await?;
        Ok(token)
    }

    /// The report kept under `token`, if it has not expired.
    pub async fn kept_outcome(&self, token: &str) -> Result<Option<OutcomeReport>, AppError> {
        if token.len() > 64 {
            return Ok(None);
        }
        Ok(get_json(self.ephemeral.as_ref(), &outcome_key(token)).await?)
    }
}

fn tx_key(state: &str) -> String {
    format!("login:{state}")
}

fn outcome_key(token: &str) -> String {
    format!("outcome:{token}")
}
