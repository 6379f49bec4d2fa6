//! The login flow, between the web handlers and the layers below: start a
//! login transaction, and on the callback check it, ask the IdP, run the
//! link decision, write the link, record the attempt and open a session.

pub mod candidates;
pub mod report;
pub mod session;

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::domain::code::ReferenceCode;
use crate::domain::link::{decide, IdpPerson, LinkOutcome};
use crate::domain::name::FullName;
use crate::domain::snils::Snils;
use crate::ephemeral::typed::{get_json, put_json};
use crate::federation::{mask_subject, FederatedPerson, FederationError, PendingLogin};
use crate::i18n::Lang;
use crate::startup::AppContext;
use crate::store::{NewAttempt, NewLink, StoreError};

pub use report::{OutcomeReport, PartReport};

/// A login transaction lives this long between start and callback.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);
/// Cookie binding the transaction to the browser that started it.
pub const LOGIN_COOKIE: &str = "el_login";

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
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("unknown provider")]
    UnknownProvider,
    #[error("too many login attempts")]
    RateLimited,
    #[error("the callback carries no state")]
    StateMissing,
    #[error("the login is unknown, expired or already used")]
    StateUnknown,
    #[error("the login was started in another browser")]
    OtherBrowser,
    #[error("cannot reach the identity provider: {0}")]
    ProviderUnavailable(#[source] FederationError),
    #[error("temporary storage unavailable: {0}")]
    Ephemeral(#[from] crate::ephemeral::EphemeralError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

impl FlowError {
    pub fn code(&self) -> &'static str {
        match self {
            FlowError::UnknownProvider => "flow.unknown_provider",
            FlowError::RateLimited => "flow.rate_limited",
            FlowError::StateMissing => "state.missing",
            FlowError::StateUnknown => "state.unknown",
            FlowError::OtherBrowser => "state.other_browser",
            FlowError::ProviderUnavailable(_) => "idp.unreachable",
            FlowError::Ephemeral(_) => "internal.ephemeral",
            FlowError::Store(_) => "internal.store",
        }
    }
}

pub struct Started {
    pub authorize_url: String,
    /// Value for the [`LOGIN_COOKIE`].
    pub browser_token: String,
}

/// Starts a login at `provider_id`; the browser goes to `authorize_url`.
pub async fn start(
    ctx: &AppContext,
    provider_id: &str,
    return_to: Option<String>,
    lang: Lang,
    client: &str,
) -> Result<Started, FlowError> {
    let provider = ctx
        .providers
        .get(provider_id)
        .ok_or(FlowError::UnknownProvider)?;
    let limit = ctx.config.security.login_starts_per_minute;
    let decision = ctx
        .rate
        .hit(
            &format!("login-start:{client}"),
            limit,
            Duration::from_secs(60),
        )
        .await?;
    if !decision.allowed {
        return Err(FlowError::RateLimited);
    }
    let redirect_uri = ctx.redirect_uri(provider_id);
    let started = provider
        .start(&redirect_uri)
        .await
        .map_err(FlowError::ProviderUnavailable)?;
    let browser_token = session::random_token();
    let transaction = LoginTransaction {
        provider: provider_id.to_string(),
        state: started.state.clone(),
        nonce: started.nonce,
        pkce_verifier: started.pkce_verifier,
        return_to,
        browser: session::token_hash(&browser_token),
        lang,
        created_at: Utc::now().timestamp(),
    };
    put_json(
        ctx.ephemeral.as_ref(),
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

/// What the IdP sent back to `/auth/callback/{provider}`.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

pub enum Completed {
    /// Logged in; the cookie value of the new session and where to go.
    Success {
        session_id: String,
        redirect_to: String,
        report: OutcomeReport,
    },
    /// Not logged in; the report explains why.
    Failure { report: OutcomeReport },
}

/// Finishes a login. The state is checked before anything else.
pub async fn complete(
    ctx: &AppContext,
    provider_id: &str,
    params: &CallbackParams,
    browser_token: Option<&str>,
) -> Result<Completed, FlowError> {
    let state = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .ok_or(FlowError::StateMissing)?;
    let key = tx_key(state);
    let transaction: LoginTransaction = get_json(ctx.ephemeral.as_ref(), &key)
        .await?
        .ok_or(FlowError::StateUnknown)?;
    let same_browser = browser_token.is_some_and(|token| {
        session::tokens_equal(&session::token_hash(token), &transaction.browser)
    });
    if !same_browser {
        return Err(FlowError::OtherBrowser);
    }
    if transaction.provider != provider_id {
        return Err(FlowError::StateUnknown);
    }
    // Consumed exactly once: a concurrent replay finds nothing here.
    if ctx.ephemeral.take(&key).await?.is_none() {
        return Err(FlowError::StateUnknown);
    }
    let provider = ctx
        .providers
        .get(provider_id)
        .ok_or(FlowError::UnknownProvider)?;

    let federated = match (&params.error, &params.code) {
        (Some(error), _) => Err(crate::federation::esia::refusal_from_redirect(
            error,
            params.error_description.as_deref(),
        )),
        (None, Some(code)) if !code.is_empty() && code.len() <= 4096 => {
            let redirect_uri = ctx.redirect_uri(provider_id);
            provider
                .finish(
                    code,
                    &PendingLogin {
                        state,
                        nonce: transaction.nonce.as_deref(),
                        pkce_verifier: transaction.pkce_verifier.as_deref(),
                        redirect_uri: &redirect_uri,
                    },
                )
                .await
        }
        (None, _) => Err(FederationError::BadResponse(
            "the callback carries neither code nor error".into(),
        )),
    };
    let reference = ReferenceCode::generate();
    let person = match federated {
        Ok(person) => person,
        Err(error) => {
            tracing::warn!(provider = provider_id, code = %error.code(), error = %error, reference = %reference, "identity provider step failed");
            let report =
                OutcomeReport::idp_error(&reference, provider_id, &error, transaction.lang);
            record(ctx, &report, None, None).await?;
            return Ok(Completed::Failure { report });
        }
    };
    decide_and_apply(ctx, &person, &transaction, reference).await
}

async fn decide_and_apply(
    ctx: &AppContext,
    person: &FederatedPerson,
    transaction: &LoginTransaction,
    reference: ReferenceCode,
) -> Result<Completed, FlowError> {
    let lang = transaction.lang;
    let name = FullName::new(
        person.surname.as_deref().unwrap_or(""),
        person.given_name.as_deref().unwrap_or(""),
        person.patronymic.as_deref(),
    );
    let Ok(name) = name else {
        let error = FederationError::BadResponse("the profile has no surname or given name".into());
        let report = OutcomeReport::idp_error(&reference, &person.provider, &error, lang);
        record(ctx, &report, Some(person), None).await?;
        return Ok(Completed::Failure { report });
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
    let policy = candidates::link_policy(&ctx.config);
    let existing = candidates::existing(ctx, &person.provider, &person.subject).await?;
    // A linked identity is decided by its link alone: no SNILS search needed.
    let by_snils = match (&existing, &snils) {
        (None, Some(snils)) => candidates::by_snils(ctx, &person.provider, snils).await?,
        _ => Vec::new(),
    };
    let (existing_account, existing_link) = match existing {
        Some((account, link_id)) => (Some(account), Some(link_id)),
        None => (None, None),
    };
    let mut outcome = decide(&idp_person, existing_account.as_ref(), &by_snils, &policy);

    if let LinkOutcome::Linked { account_id, .. } = &outcome {
        let new_link = NewLink {
            provider: person.provider.clone(),
            subject: person.subject.clone(),
            account_id: *account_id,
            method: "auto_snils".into(),
            tier_at_link: person.tier.as_str().into(),
        };
        match ctx
            .store
            .create_link(&new_link, "system:login", "full name + SNILS matched")
            .await
        {
            Ok(_) => {}
            // Another callback won the race: the constraint decides, not luck.
            // If it linked this very identity to this account, we are logged in.
            Err(StoreError::AlreadyLinked(_)) => {
                outcome = match ctx
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

    let known_region = outcome.account_id().and_then(|id| {
        existing_account
            .iter()
            .chain(by_snils.iter())
            .find(|c| c.account_id == id)
            .map(|c| i64::from(c.region.get()))
    });
    let account_region = match (known_region, outcome.account_id()) {
        (Some(region), _) => Some(region),
        (None, Some(id)) => ctx.store.account_region(id).await?,
        (None, None) => None,
    };
    let report = OutcomeReport::from_outcome(
        &reference,
        &idp_person,
        &outcome,
        &by_snils,
        account_region,
        lang,
    );
    record(ctx, &report, Some(person), snils.as_ref()).await?;
    tracing::info!(provider = %person.provider, subject = %mask_subject(&person.subject), outcome = report.outcome.as_str(), reference = %reference, "login attempt");

    if let (true, Some(account_id)) = (outcome.is_success(), outcome.account_id()) {
        if let LinkOutcome::LoggedIn { .. } = outcome {
            let link_id = match existing_link {
                Some(id) => Some(id),
                None => ctx
                    .store
                    .find_link(&person.provider, &person.subject)
                    .await?
                    .map(|link| link.id),
            };
            if let Some(link_id) = link_id {
                ctx.store.touch_link_login(link_id, Utc::now()).await?;
            }
        }
        let session_id = ctx
            .sessions
            .create(account_id, &person.provider, &person.subject)
            .await?;
        let redirect_to = transaction
            .return_to
            .clone()
            .unwrap_or_else(|| ctx.config.server.diary_start_url.clone());
        return Ok(Completed::Success {
            session_id,
            redirect_to,
            report,
        });
    }
    Ok(Completed::Failure { report })
}

/// Records a flow error (bad state etc.) as an attempt so that operators
/// can find the reference code the page showed.
pub async fn record_flow_error(
    ctx: &AppContext,
    provider_id: &str,
    error: &FlowError,
    lang: Lang,
) -> OutcomeReport {
    let reference = ReferenceCode::generate();
    let report = OutcomeReport::flow_error(&reference, provider_id, error, lang);
    if let Err(e) = record(ctx, &report, None, None).await {
        tracing::error!(error = %e, "cannot record a failed login attempt");
    }
    report
}

async fn record(
    ctx: &AppContext,
    report: &OutcomeReport,
    person: Option<&FederatedPerson>,
    snils: Option<&Snils>,
) -> Result<(), StoreError> {
    let attempt = NewAttempt {
        reference_code: report.reference.clone(),
        provider: report.provider.clone(),
        subject_masked: person.map(|p| mask_subject(&p.subject)),
        subject_hash: person
            .map(|p| ctx.lookup_hash("subject", &format!("{}:{}", p.provider, p.subject))),
        account_id: report.account_id,
        outcome: report.outcome.clone(),
        region_code: report.region.map(i64::from),
        tier: person.map(|p| p.tier.as_str().to_string()),
        idp_error: report.idp_error.clone(),
        details: report.operator_details(person, snils),
        snils_hash: snils.map(|s| ctx.lookup_hash("snils", s.digits())),
    };
    ctx.store.record_attempt(&attempt).await
}

fn tx_key(state: &str) -> String {
    format!("login:{state}")
}
