//! Diary login and password: logging in with them (with backoff and
//! lockout), and linking a State Services identity that the automatic match
//! could not place (no SNILS at the IdP, or no account with it) by proving
//! the diary account: with its password, or with the one-time activation
//! code the school issued. Linking needs the full names to match: a parent
//! cannot attach their identity to their child's account.
//!
//! An account linked by its code may still be pending (no password, no
//! e-mail): it is deliberately left so. Its owner logs in via State
//! Services, which needs neither; a password can be set later with a new
//! code from the school, through the activation wizard. That is why a code
//! is only spent on a link the next State Services login will accept
//! (region enabled, tier enough for the age): otherwise the person would
//! be left with neither a way in nor a code.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::activation::ActivationError;
use crate::{AppError, Logins};
use ::texts::prelude::*;
use domain::activation::CodeRefusal;
use domain::link::{decide, names_match, CandidateAccount, IdpPerson, LinkOutcome};
use domain::name::{compare, FullName};
use domain::throttle::Verdict;
use domain::tier::{RegionCode, Tier};
use ephemeral::sessions::{random_token, token_hash};
use ephemeral::typed::{get_json, put_json, take_json};
use i18n::{local_time, Lang};
use store::{Account, NewLink, StoreError};

/// How long a failed State Services login stays linkable.
const PENDING_LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// A State Services identity waiting to be linked by password.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingIdentity {
    pub provider: String,
    pub subject: String,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub tier: String,
    pub reference: String,
}

impl std::fmt::Debug for PendingIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PendingIdentity({}, {})", self.provider, self.reference)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRefusal {
    /// Unknown login or wrong password: never says which.
    Wrong,
    /// Too many attempts from this address.
    RateLimited,
    /// Backoff or lockout of this login, until then.
    Throttled(Verdict),
    /// The account was never activated.
    NotActivated,
    /// Activated, e-mail not confirmed yet; a new link went out.
    ConfirmEmail,
    Blocked,
    /// Fallback linking: the names differ.
    NameMismatch,
    /// Fallback linking: this account has an identity of that provider.
    AccountLinkedAlready {
        account: Uuid,
        reference: String,
    },
    /// Fallback linking: nothing waits to be linked (expired, used).
    NothingToLink,
}

/// Why linking with an activation code was refused; nothing changed and
/// the code is still good (unless the refusal is about the code itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeLinkRefusal {
    /// The code itself, in the wizard's words: address limit, unreadable,
    /// unknown, expired, used, revoked, account active already.
    Code(ActivationError),
    /// The names differ (a parent holding their child's code).
    NameMismatch,
    /// State Services login is off in the region of the code's school.
    RegionDisabled,
    /// The State Services account is below the tier the age needs.
    TierTooLow { required: Tier, actual: Tier },
    /// The code's account has an identity of that provider already.
    AccountLinkedAlready { account: Uuid, reference: String },
    /// Nothing waits to be linked (expired, used).
    NothingToLink,
}

/// "Contact support with the reference code", with the code.
fn linked_already(lang: Lang, reference: &str) -> String {
    match lang {
        Lang::Ru => format!("К этой учётной записи дневника уже привязана другая учётная запись Госуслуг. Обратитесь в поддержку и назовите код обращения {reference}."),
        Lang::En => format!("Another State Services account is linked to this e-diary account already. Contact support and quote the reference code {reference}."),
    }
}

impl CodeLinkRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            CodeLinkRefusal::Code(error) => error.code(),
            CodeLinkRefusal::NameMismatch => "link.name_mismatch",
            CodeLinkRefusal::RegionDisabled => "link.region_disabled",
            CodeLinkRefusal::TierTooLow { .. } => "link.tier_too_low",
            CodeLinkRefusal::AccountLinkedAlready { .. } => "link.account_taken",
            CodeLinkRefusal::NothingToLink => "link.gone",
        }
    }

    pub fn messages(&self, lang: Lang) -> Vec<String> {
        let one = |ru: &str, en: &str| vec![lang.pick(ru, en).to_string()];
        match self {
            CodeLinkRefusal::Code(error) => error.messages(lang),
            CodeLinkRefusal::NameMismatch => one(
                "ФИО в учётной записи, для которой выдан этот код, не совпадает с ФИО на Госуслугах, поэтому связать их нельзя. Если это ваш код, попросите школу исправить ФИО; если это код ребёнка — введите код со своего листа-приглашения.",
                "The name on the e-diary account this code was issued for differs from your State Services name, so they cannot be linked. If it is your code, ask the school to correct the name; if it is your child's code, enter the code from your own invitation sheet.",
            ),
            CodeLinkRefusal::RegionDisabled => one(
                "В регионе вашей школы вход в дневник через Госуслуги пока не подключён, поэтому связать учётные записи нельзя. Код не израсходован: активируйте им учётную запись и входите по логину и паролю.",
                "E-diary login via State Services is not enabled in your school's region yet, so the accounts cannot be linked. The code is not used up: activate your account with it and log in with a login and password.",
            ),
            CodeLinkRefusal::TierTooLow { required, actual } => vec![match lang {
                Lang::Ru => format!(
                    "В вашем возрасте для входа через Госуслуги нужна учётная запись уровня «{}» или выше, а у вас — «{}». Подтвердите учётную запись на Госуслугах и попробуйте снова; код не израсходован.",
                    required.label(lang),
                    actual.label(lang)
                ),
                Lang::En => format!(
                    "At your age logging in via State Services needs an account of the “{}” tier or higher; yours is “{}”. Upgrade your State Services account and try again; the code is not used up.",
                    required.label(lang),
                    actual.label(lang)
                ),
            }],
            CodeLinkRefusal::AccountLinkedAlready { reference, .. } => {
                vec![linked_already(lang, reference)]
            }
            CodeLinkRefusal::NothingToLink => PasswordRefusal::NothingToLink.messages(lang),
        }
    }
}

impl PasswordRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            PasswordRefusal::Wrong => "password.wrong",
            PasswordRefusal::RateLimited => "password.rate_limited",
            PasswordRefusal::Throttled(Verdict::LockedUntil(_)) => "password.locked",
            PasswordRefusal::Throttled(_) => "password.wait",
            PasswordRefusal::NotActivated => "account.not_activated",
            PasswordRefusal::ConfirmEmail => "account.confirm_email",
            PasswordRefusal::Blocked => "account.blocked",
            PasswordRefusal::NameMismatch => "link.name_mismatch",
            PasswordRefusal::AccountLinkedAlready { .. } => "link.account_taken",
            PasswordRefusal::NothingToLink => "link.gone",
        }
    }

    pub fn messages(&self, lang: Lang) -> Vec<String> {
        vec![self.message(lang)]
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            PasswordRefusal::Wrong => lang.pick(
                "Неверный логин или пароль.",
                "Wrong login or password.",
            ).into(),
            PasswordRefusal::RateLimited => lang.pick(
                "Слишком много попыток входа с этого адреса. Подождите минуту.",
                "Too many login attempts from this address. Wait a minute.",
            ).into(),
            PasswordRefusal::Throttled(verdict) => {
                // Which account a login belongs to is not told, so neither is
                // its region: the service's own zone.
                let at = verdict.retry_at().map(|t| local_time(t, config::DEFAULT_TIME_ZONE, lang)).unwrap_or_default();
                verdict.message(lang, &at).unwrap_or_default()
            }
            PasswordRefusal::NotActivated => lang.pick(
                "Учётная запись ещё не активирована. Активируйте её кодом с листа-приглашения, который выдала школа.",
                "The account is not activated yet. Activate it with the code from the invitation sheet your school gave you.",
            ).into(),
            PasswordRefusal::ConfirmEmail => lang.pick(
                "Осталось подтвердить почту: мы отправили новое письмо со ссылкой. Откройте её и войдите снова.",
                "One step left: confirm your e-mail. We have sent a new message with the link; open it and log in again.",
            ).into(),
            PasswordRefusal::Blocked => lang.pick(
                "Учётная запись заблокирована. Обратитесь к администратору дневника в школе.",
                "The account is blocked. Contact the e-diary administrator at your school.",
            ).into(),
            PasswordRefusal::NameMismatch => lang.pick(
                "ФИО в учётной записи дневника не совпадает с ФИО на Госуслугах, поэтому связать их нельзя. Если это ваша учётная запись, попросите школу исправить ФИО; если это учётная запись ребёнка — войдите в свою.",
                "The name on this e-diary account differs from your State Services name, so they cannot be linked. If it is your account, ask the school to correct the name; if it is your child's account, use your own.",
            ).into(),
            PasswordRefusal::AccountLinkedAlready { reference, .. } => {
                linked_already(lang, reference)
            }
            PasswordRefusal::NothingToLink => lang.pick(
                "Время на привязку истекло. Войдите через Госуслуги ещё раз.",
                "The time to link has run out. Log in via State Services again.",
            ).into(),
        }
    }
}

/// Consecutive failures of one login.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Failures {
    count: u32,
    last: Option<DateTime<Utc>>,
}

fn pending_key(token: &str) -> String {
    format!("pending-link:{}", token_hash(token))
}

impl Logins<'_> {
    fn failures_key(&self, login: &str) -> String {
        format!("pwfail:{}", self.lookup_hash("login", login))
    }

    /// The password check shared by login and linking: address limit,
    /// per-login backoff and lockout, the hash (a dummy one for unknown
    /// logins, so timing does not tell), then the account's state.
    async fn check_password(
        &self,
        login: &str,
        password: SecretString,
        client: &str,
        lang: Lang,
    ) -> Result<Result<Account, PasswordRefusal>, AppError> {
        let limit = self.config().activation.password_attempts_per_minute;
        let decision = self
            .rate
            .hit(
                &format!("password:{client}"),
                limit,
                Duration::from_secs(60),
            )
            .await?;
        if !decision.allowed {
            crate::telemetry::rate_limited("password");
            return Ok(Err(PasswordRefusal::RateLimited));
        }
        let login = login.trim().to_lowercase();
        let policy = self.config().activation.throttle;
        let key = self.failures_key(&login);
        let failures: Failures = get_json(self.ephemeral().as_ref(), &key)
            .await?
            .unwrap_or_default();
        let verdict = policy.decide(failures.count, failures.last, self.now());
        if !verdict.is_allowed() {
            crate::telemetry::rate_limited("password_account");
            return Ok(Err(PasswordRefusal::Throttled(verdict)));
        }
        let account = if login.is_empty() || login.len() > 64 {
            None
        } else {
            self.store().find_account_by_login(&login).await?
        };
        let matched = match account.as_ref().and_then(|a| a.password_hash.clone()) {
            Some(phc) => crate::account::password::verify(password, phc).await,
            None => {
                crate::account::password::verify_dummy(password).await;
                false
            }
        };
        let (Some(account), true) = (account, matched) else {
            let failed = Failures {
                count: failures.count.saturating_add(1),
                last: Some(self.now()),
            };
            let keep = policy.lock_for + policy.max_delay + Duration::from_secs(60);
            put_json(self.ephemeral().as_ref(), &key, &failed, keep).await?;
            return Ok(Err(PasswordRefusal::Wrong));
        };
        self.ephemeral().delete(&key).await?;
        match account.status.as_str() {
            "active" => Ok(Ok(account)),
            "blocked" => Ok(Err(PasswordRefusal::Blocked)),
            _ if account.password_hash.is_some() && account.email.is_some() => {
                self.resend_confirmation(&account, lang).await?;
                Ok(Err(PasswordRefusal::ConfirmEmail))
            }
            _ => Ok(Err(PasswordRefusal::NotActivated)),
        }
    }

    /// A new confirmation link, at most one per 10 minutes per account.
    async fn resend_confirmation(&self, account: &Account, lang: Lang) -> Result<(), AppError> {
        let Some(email) = account.email.as_deref() else {
            return Ok(());
        };
        let decision = self
            .rate
            .hit(
                &format!("resend:{}", account.id),
                1,
                Duration::from_secs(600),
            )
            .await?;
        if !decision.allowed {
            return Ok(());
        }
        let token = random_token();
        let hours = self.config().activation.email_link_hours;
        self.store()
            .add_email_token(
                &self.lookup_hash("email_token", &token),
                account.id,
                "confirm_email",
                email,
                self.now() + chrono::Duration::hours(i64::from(hours)),
            )
            .await?;
        self.account().send_confirmation(email, &token, lang).await;
        Ok(())
    }

    /// Logs in with the diary login and password; returns the session's
    /// cookie value.
    pub async fn password_login(
        &self,
        login: &str,
        password: SecretString,
        client: &str,
        lang: Lang,
    ) -> Result<Result<String, PasswordRefusal>, AppError> {
        let account = match self.check_password(login, password, client, lang).await? {
            Ok(account) => account,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let session = self
            .sessions
            .create(
                account.id,
                "password",
                account.login.as_deref().unwrap_or(""),
                false,
                None,
            )
            .await?;
        tracing::info!(account = %account.id, "password login");
        Ok(Ok(session))
    }

    /// Keeps a State Services identity that could not be placed, for the
    /// "link with your diary password" form; returns its token.
    pub(crate) async fn keep_pending_identity(
        &self,
        identity: &PendingIdentity,
    ) -> Result<String, AppError> {
        let token = random_token();
        put_json(
            self.ephemeral().as_ref(),
            &pending_key(&token),
            identity,
            PENDING_LINK_TTL,
        )
        .await?;
        Ok(token)
    }

    /// The identity waiting behind a token (for the form's wording).
    pub async fn pending_identity(
        &self,
        token: Option<&str>,
    ) -> Result<Option<PendingIdentity>, AppError> {
        let Some(token) = token.filter(|t| t.len() <= 128) else {
            return Ok(None);
        };
        Ok(get_json(self.ephemeral().as_ref(), &pending_key(token)).await?)
    }

    /// Proves a diary account with its password and links the waiting
    /// identity to it when the names match; logs in. Returns the session's
    /// cookie value.
    pub async fn link_with_password(
        &self,
        token: Option<&str>,
        login: &str,
        password: SecretString,
        client: &str,
        lang: Lang,
    ) -> Result<Result<String, PasswordRefusal>, AppError> {
        let Some(identity) = self.pending_identity(token).await? else {
            return Ok(Err(PasswordRefusal::NothingToLink));
        };
        let account = match self.check_password(login, password, client, lang).await? {
            Ok(account) => account,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if !self.names_agree(&identity, &account) {
            self.audit_refused_link(&identity, &account, "credentials", "names differ")
                .await?;
            return Ok(Err(PasswordRefusal::NameMismatch));
        }
        let link = NewLink {
            provider: identity.provider.clone(),
            subject: identity.subject.clone(),
            account_id: account.id,
            method: "credentials".into(),
            tier_at_link: identity.tier.clone(),
        };
        let reason = format!(
            "diary password proved after a State Services login without a match (reference {})",
            identity.reference
        );
        match self
            .store()
            .create_link(&link, &format!("account:{}", account.id), &reason)
            .await
        {
            Ok(_) => {}
            Err(StoreError::AlreadyLinked(_)) => {
                return Ok(Err(PasswordRefusal::AccountLinkedAlready {
                    account: account.id,
                    reference: identity.reference,
                }))
            }
            Err(other) => return Err(other.into()),
        }
        let session = self
            .logged_in_after_fallback(token, &identity, account.id, "linked_by_password")
            .await?;
        Ok(Ok(session))
    }

    /// Proves a diary account with the activation code its school issued
    /// and links the waiting identity to it when the names match and the
    /// next State Services login would be let in; the code is consumed in
    /// the same transaction. Logs in; returns the session's cookie value.
    pub async fn link_with_code(
        &self,
        token: Option<&str>,
        typed: &str,
        client: &str,
    ) -> Result<Result<String, CodeLinkRefusal>, AppError> {
        let Some(identity) = self.pending_identity(token).await? else {
            return Ok(Err(CodeLinkRefusal::NothingToLink));
        };
        let (code_hash, account_id) =
            match self.account().check_activation_code(typed, client).await? {
                Ok(found) => found,
                Err(refusal) => return Ok(Err(CodeLinkRefusal::Code(refusal))),
            };
        let overview = self.store().account_overview(account_id).await?;
        let account = overview.account;
        if !self.names_agree(&identity, &account) {
            self.audit_refused_link(&identity, &account, "activation_code", "names differ")
                .await?;
            return Ok(Err(CodeLinkRefusal::NameMismatch));
        }
        let region = overview
            .school
            .and_then(|s| u16::try_from(s.region_code).ok());
        if let Some(refusal) = self.next_login_refusal(&identity, &account, region) {
            let why = match &refusal {
                CodeLinkRefusal::RegionDisabled => "State Services login not enabled in the region",
                _ => "State Services account tier too low for the age",
            };
            self.audit_refused_link(&identity, &account, "activation_code", why)
                .await?;
            return Ok(Err(refusal));
        }
        let link = NewLink {
            provider: identity.provider.clone(),
            subject: identity.subject.clone(),
            account_id: account.id,
            method: "activation_code".into(),
            tier_at_link: identity.tier.clone(),
        };
        let reason = format!(
            "activation code proved after a State Services login without a match (reference {})",
            identity.reference
        );
        match self
            .store()
            .link_with_activation_code(
                &code_hash,
                &link,
                &format!("account:{}", account.id),
                &reason,
            )
            .await
        {
            Ok(Some(_)) => {}
            // Spent or revoked between the check and now (another tab).
            Ok(None) => {
                return Ok(Err(CodeLinkRefusal::Code(ActivationError::Code(
                    CodeRefusal::Used,
                ))))
            }
            Err(StoreError::AlreadyLinked(_)) => {
                return Ok(Err(CodeLinkRefusal::AccountLinkedAlready {
                    account: account.id,
                    reference: identity.reference,
                }))
            }
            Err(other) => return Err(other.into()),
        }
        tracing::info!(account = %account.id, reference = %identity.reference, "linked by activation code");
        let session = self
            .logged_in_after_fallback(token, &identity, account.id, "linked_by_code")
            .await?;
        Ok(Ok(session))
    }

    /// After a fallback link: the waiting identity is used up, the attempt
    /// counted, and the person logged in (the session's cookie value).
    async fn logged_in_after_fallback(
        &self,
        token: Option<&str>,
        identity: &PendingIdentity,
        account: Uuid,
        outcome: &'static str,
    ) -> Result<String, AppError> {
        if let Some(token) = token {
            let _: Option<PendingIdentity> =
                take_json(self.ephemeral().as_ref(), &pending_key(token)).await?;
        }
        crate::telemetry::login_attempt(outcome, &identity.provider);
        Ok(self
            .sessions
            .create(
                account,
                &identity.provider,
                &identity.subject,
                true,
                Some(&identity.tier),
            )
            .await?)
    }

    /// The fallback's name rule: the State Services name and the diary
    /// account's match as the automatic link would require.
    fn names_agree(&self, identity: &PendingIdentity, account: &Account) -> bool {
        let names = FullName::new(
            &identity.surname,
            &identity.given_name,
            identity.patronymic.as_deref(),
        )
        .and_then(|idp| {
            FullName::new(
                &account.surname,
                &account.given_name,
                account.patronymic.as_deref(),
            )
            .map(|diary| compare(&idp, &diary))
        });
        let allow_missing = self.config().policy.allow_missing_patronymic;
        names.as_ref().is_ok_and(|c| names_match(c, allow_missing))
    }

    /// What the next State Services login would say about this link: the
    /// link decision itself, asked as if the link existed.
    fn next_login_refusal(
        &self,
        identity: &PendingIdentity,
        account: &Account,
        region: Option<u16>,
    ) -> Option<CodeLinkRefusal> {
        let region = region.and_then(|code| RegionCode::new(code).ok());
        let names = (
            FullName::new(
                &identity.surname,
                &identity.given_name,
                identity.patronymic.as_deref(),
            ),
            FullName::new(
                &account.surname,
                &account.given_name,
                account.patronymic.as_deref(),
            ),
        );
        let (Some(region), (Ok(idp_name), Ok(diary_name))) = (region, names) else {
            return Some(CodeLinkRefusal::RegionDisabled);
        };
        let tier = Tier::parse(&identity.tier).unwrap_or(Tier::Simplified);
        let person = IdpPerson {
            provider: identity.provider.clone(),
            subject: identity.subject.clone(),
            name: idp_name,
            snils: None,
            birth_date: identity.birth_date,
            tier,
        };
        let linked = CandidateAccount {
            account_id: account.id,
            name: diary_name,
            snils: None,
            birth_date: account.birth_date,
            region,
            linked_subject: Some(identity.subject.clone()),
            // The code's account is pending (checked with the code).
            blocked: false,
        };
        let policy = crate::login::candidates::link_policy(self.config(), self.now().date_naive());
        match decide(&person, Some(&linked), &[], &policy) {
            LinkOutcome::RegionDisabled { .. } => Some(CodeLinkRefusal::RegionDisabled),
            LinkOutcome::TierTooLow {
                required, actual, ..
            } => Some(CodeLinkRefusal::TierTooLow { required, actual }),
            _ => None,
        }
    }

    async fn audit_refused_link(
        &self,
        identity: &PendingIdentity,
        account: &Account,
        method: &str,
        why: &str,
    ) -> Result<(), AppError> {
        self.store()
            .append_audit(&store::NewAuditEntry {
                actor: format!("account:{}", account.id),
                action: "link.refused".into(),
                target_kind: "account".into(),
                target_id: account.id.to_string(),
                reason: Some(why.into()),
                details: serde_json::json!({
                    "provider": identity.provider,
                    "method": method,
                    "reference": identity.reference,
                }),
            })
            .await?;
        Ok(())
    }
}
