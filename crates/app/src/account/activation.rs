//! The activation wizard: a person with a one-time code from their school
//! checks their data, gives an e-mail and a mobile number, chooses a
//! password and optionally a new login; the last step consumes the code and
//! sends a confirmation link; opening it makes the account active.
//!
//! The browser holds a wizard token (cookie) pointing at an ephemeral entry
//! with the code's hash and a CSRF token; the answers are kept with the code
//! in the database, so re-entering the code resumes an abandoned wizard.

use std::time::Duration;

use chrono::NaiveDate;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Accounts, AppError};
use ::texts::prelude::*;
use domain::activation::{
    code_state, mask_email, parse_email, parse_phone, CodeRefusal, ContactProblem, Step,
    WizardProgress,
};
use domain::code::{ActivationCode, CodeError};
use domain::password::PasswordProblem;
use domain::roster::valid_login;
use ephemeral::sessions::{random_token, tokens_equal};
use ephemeral::typed::{get_json, put_json};
use i18n::Lang;
use notify::{Message, Recipient};
use store::{Activation, ActivationConflict};

/// How long a browser's wizard lives without a step.
const WIZARD_IDLE: Duration = Duration::from_secs(60 * 60);

/// Why a step was refused; the page shows every message and keeps the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivationError {
    Code(CodeRefusal),
    Malformed(CodeError),
    /// Too many codes tried from this address.
    RateLimited,
    Contact(ContactProblem),
    Password(Vec<PasswordProblem>),
    PasswordsDiffer,
    BadLogin,
    LoginTaken,
    /// The login was changed once already; it cannot change again.
    LoginChangedAlready,
    /// The wizard expired or was finished in another tab.
    WizardGone,
}

impl ActivationError {
    pub fn code(&self) -> &'static str {
        match self {
            ActivationError::Code(refusal) => refusal.code(),
            ActivationError::Malformed(_) => "code.malformed",
            ActivationError::RateLimited => "code.rate_limited",
            ActivationError::Contact(ContactProblem::BadEmail) => "contact.email",
            ActivationError::Contact(ContactProblem::BadPhone) => "contact.phone",
            ActivationError::Password(_) => "password.weak",
            ActivationError::PasswordsDiffer => "password.differ",
            ActivationError::BadLogin => "login.bad",
            ActivationError::LoginTaken => "login.taken",
            ActivationError::LoginChangedAlready => "login.changed_already",
            ActivationError::WizardGone => "wizard.gone",
        }
    }

    pub fn messages(&self, lang: Lang) -> Vec<String> {
        match self {
            ActivationError::Code(refusal) => vec![refusal.message(lang).into()],
            ActivationError::Malformed(error) => vec![format!(
                "{}: {}",
                lang.pick("Код не распознан", "The code was not understood"),
                error.message(lang)
            )],
            ActivationError::RateLimited => vec![lang
                .pick(
                    "Слишком много попыток ввести код с этого адреса. Подождите минуту и попробуйте снова.",
                    "Too many codes tried from this address. Wait a minute and try again.",
                )
                .into()],
            ActivationError::Contact(problem) => vec![problem.message(lang).into()],
            ActivationError::Password(problems) => {
                problems.iter().map(|p| p.message(lang)).collect()
            }
            ActivationError::PasswordsDiffer => vec![lang
                .pick("Пароли в двух полях не совпадают.", "The two passwords differ.")
                .into()],
            ActivationError::BadLogin => vec![lang
                .pick(
                    "Логин: от 3 до 64 латинских букв, цифр, точек, дефисов и подчёркиваний.",
                    "A login has 3 to 64 Latin letters, digits, dots, hyphens or underscores.",
                )
                .into()],
            ActivationError::LoginTaken => vec![lang
                .pick("Этот логин уже занят, выберите другой.", "This login is taken; choose another.")
                .into()],
            ActivationError::LoginChangedAlready => vec![lang
                .pick(
                    "Логин можно сменить только один раз, и он уже был изменён.",
                    "A login can be changed only once, and it has been changed already.",
                )
                .into()],
            ActivationError::WizardGone => vec![lang
                .pick(
                    "Сеанс активации истёк или завершён в другой вкладке. Введите код ещё раз: введённые данные сохранены.",
                    "The activation session has expired or was finished in another tab. Enter the code again: your answers are kept.",
                )
                .into()],
        }
    }
}

/// The browser's wizard entry.
#[derive(Serialize, Deserialize)]
struct WizardEntry {
    code_hash: String,
    account_id: Uuid,
    csrf: String,
}

/// What a wizard page shows.
pub struct WizardView {
    pub step: Step,
    pub full_name: String,
    pub birth_date: Option<NaiveDate>,
    pub role: String,
    pub school: Option<String>,
    pub class_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub login: Option<String>,
    pub login_changed: bool,
    /// For a person whose school gave no login: a free one to keep or
    /// change; leaving the field empty takes it.
    pub proposed_login: Option<String>,
    pub csrf: String,
}

/// A submitted step.
pub enum WizardInput {
    ConfirmData,
    Contacts {
        email: String,
        phone: String,
    },
    Password {
        password: SecretString,
        repeat: SecretString,
    },
    /// `None` keeps the current login.
    Login {
        new_login: Option<String>,
    },
}

pub enum WizardNext {
    Step(Step),
    /// The code is consumed; a confirmation link went to this (masked) address.
    Finished {
        email_masked: String,
        /// The login to log in with (the one kept, chosen or proposed).
        login: String,
    },
}

fn wizard_key(token: &str) -> String {
    format!("wizard:{}", ephemeral::sessions::token_hash(token))
}

impl Accounts<'_> {
    /// Reads a typed code and opens a wizard for it; returns the wizard
    /// token for the cookie. Rate-limited per client address.
    pub async fn start_activation(
        &self,
        typed: &str,
        client: &str,
    ) -> Result<Result<String, ActivationError>, AppError> {
        let (code_hash, account_id) = match self.check_activation_code(typed, client).await? {
            Ok(found) => found,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let token = random_token();
        let entry = WizardEntry {
            code_hash,
            account_id,
            csrf: random_token(),
        };
        put_json(
            self.ephemeral().as_ref(),
            &wizard_key(&token),
            &entry,
            WIZARD_IDLE,
        )
        .await?;
        tracing::info!(account = %account_id, "activation wizard opened");
        Ok(Ok(token))
    }

    /// The one check of a typed code, shared by the wizard and by linking a
    /// State Services identity with a code: the per-address limit, the
    /// reading (case, grouping, Cyrillic look-alikes), the stored state
    /// (expired, used, revoked) and a still pending account. Returns the
    /// code's hash and its account.
    pub(crate) async fn check_activation_code(
        &self,
        typed: &str,
        client: &str,
    ) -> Result<Result<(String, Uuid), ActivationError>, AppError> {
        let limit = self.config().activation.code_attempts_per_minute;
        let decision = self
            .rate
            .hit(&format!("code:{client}"), limit, Duration::from_secs(60))
            .await?;
        if !decision.allowed {
            crate::telemetry::rate_limited("activation_code");
            return Ok(Err(ActivationError::RateLimited));
        }
        let code = match ActivationCode::parse(typed) {
            Ok(code) => code,
            Err(error) => return Ok(Err(ActivationError::Malformed(error))),
        };
        let code_hash = self.codes().hash(&code);
        let Some(record) = self.store().find_activation_code(&code_hash).await? else {
            return Ok(Err(ActivationError::Code(CodeRefusal::Unknown)));
        };
        if let Err(refusal) = code_state(
            record.expires_at,
            record.used_at,
            record.revoked_at,
            self.now(),
        ) {
            return Ok(Err(ActivationError::Code(refusal)));
        }
        let account = self.store().get_account(record.account_id).await?;
        match account.status.as_str() {
            "pending" => {}
            "blocked" => return Ok(Err(ActivationError::Code(CodeRefusal::AccountBlocked))),
            _ => return Ok(Err(ActivationError::Code(CodeRefusal::AccountActive))),
        }
        Ok(Ok((code_hash, record.account_id)))
    }

    /// The wizard entry and the code's saved progress, if both are alive.
    async fn wizard(
        &self,
        token: Option<&str>,
    ) -> Result<Option<(WizardEntry, WizardProgress)>, AppError> {
        let Some(token) = token.filter(|t| t.len() <= 128) else {
            return Ok(None);
        };
        let Some(entry) =
            get_json::<WizardEntry>(self.ephemeral().as_ref(), &wizard_key(token)).await?
        else {
            return Ok(None);
        };
        let Some(record) = self.store().find_activation_code(&entry.code_hash).await? else {
            return Ok(None);
        };
        if code_state(
            record.expires_at,
            record.used_at,
            record.revoked_at,
            self.now(),
        )
        .is_err()
        {
            return Ok(None);
        }
        let progress = record
            .progress
            .and_then(|p| serde_json::from_value(p).ok())
            .unwrap_or_default();
        Ok(Some((entry, progress)))
    }

    /// The current step's page data; `None` when there is no live wizard.
    pub async fn activation_view(
        &self,
        token: Option<&str>,
    ) -> Result<Option<WizardView>, AppError> {
        let Some((entry, progress)) = self.wizard(token).await? else {
            return Ok(None);
        };
        let overview = self.store().account_overview(entry.account_id).await?;
        let account = overview.account;
        let full_name = match &account.patronymic {
            Some(p) => format!("{} {} {p}", account.surname, account.given_name),
            None => format!("{} {}", account.surname, account.given_name),
        };
        let class_name = self.store().class_of(entry.account_id).await?;
        let proposed_login = match account.login {
            Some(_) => None,
            None => Some(self.free_login(&account).await?),
        };
        Ok(Some(WizardView {
            step: progress.next_step(),
            full_name,
            birth_date: account.birth_date,
            role: account.role.clone(),
            school: overview.school.map(|s| s.name),
            class_name,
            email: progress.email.clone(),
            phone: progress.phone.clone(),
            login: account.login.clone(),
            login_changed: account.login_changed,
            proposed_login,
            csrf: entry.csrf,
        }))
    }

    /// Takes one step's answers; the last step consumes the code.
    pub async fn activation_submit(
        &self,
        token: Option<&str>,
        csrf: &str,
        input: WizardInput,
        lang: Lang,
    ) -> Result<Result<WizardNext, ActivationError>, AppError> {
        let Some((entry, mut progress)) = self.wizard(token).await? else {
            return Ok(Err(ActivationError::WizardGone));
        };
        if !tokens_equal(csrf, &entry.csrf) {
            return Err(AppError::CsrfMismatch);
        }
        let account = self.store().get_account(entry.account_id).await?;
        match input {
            WizardInput::ConfirmData => progress.data_confirmed = true,
            WizardInput::Contacts { email, phone } => {
                let email = match parse_email(&email) {
                    Ok(email) => email,
                    Err(problem) => return Ok(Err(ActivationError::Contact(problem))),
                };
                let phone = match parse_phone(&phone) {
                    Ok(phone) => phone,
                    Err(problem) => return Ok(Err(ActivationError::Contact(problem))),
                };
                progress.email = Some(email);
                progress.phone = Some(phone);
            }
            WizardInput::Password { password, repeat } => {
                use crate::account::password::{choose, PasswordRefusal};
                match choose(&account, password, repeat).await? {
                    Ok(hash) => progress.password_hash = Some(hash),
                    Err(PasswordRefusal::Differ) => {
                        return Ok(Err(ActivationError::PasswordsDiffer))
                    }
                    Err(PasswordRefusal::Weak(problems)) => {
                        return Ok(Err(ActivationError::Password(problems)))
                    }
                }
            }
            WizardInput::Login { new_login } => {
                return self
                    .finish_activation(&entry, &progress, &account, new_login, lang)
                    .await;
            }
        }
        self.store()
            .save_activation_progress(
                &entry.code_hash,
                &serde_json::to_value(&progress).unwrap_or_default(),
            )
            .await?;
        Ok(Ok(WizardNext::Step(progress.next_step())))
    }

    async fn finish_activation(
        &self,
        entry: &WizardEntry,
        progress: &WizardProgress,
        account: &store::Account,
        new_login: Option<String>,
        lang: Lang,
    ) -> Result<Result<WizardNext, ActivationError>, AppError> {
        let (Some(email), Some(phone), Some(password_hash)) = (
            progress.email.as_deref(),
            progress.phone.as_deref(),
            progress.password_hash.as_deref(),
        ) else {
            return Ok(Ok(WizardNext::Step(progress.next_step())));
        };
        let new_login = new_login
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty() && Some(l.as_str()) != account.login.as_deref());
        if let Some(login) = &new_login {
            if account.login_changed {
                return Ok(Err(ActivationError::LoginChangedAlready));
            }
            if !valid_login(login) {
                return Ok(Err(ActivationError::BadLogin));
            }
            if self.store().find_account_by_login(login).await?.is_some() {
                return Ok(Err(ActivationError::LoginTaken));
            }
        }
        // The field is optional: left empty by a person without a login,
        // the proposal is taken (nobody can log in without one).
        let new_login = match (new_login, &account.login) {
            (None, None) => Some(self.free_login(account).await?),
            (chosen, _) => chosen,
        };
        let token = random_token();
        let hours = self.config().activation.email_link_hours;
        let finished = self
            .store()
            .finish_activation(&Activation {
                code_hash: &entry.code_hash,
                account_id: entry.account_id,
                password_hash,
                email,
                phone,
                new_login: new_login.as_deref(),
                email_token_hash: &self.lookup_hash("email_token", &token),
                email_token_expires: self.now() + chrono::Duration::hours(i64::from(hours)),
            })
            .await?;
        match finished {
            Ok(()) => {}
            Err(ActivationConflict::LoginTaken) => return Ok(Err(ActivationError::LoginTaken)),
            Err(ActivationConflict::CodeGone | ActivationConflict::AccountNotPending) => {
                return Ok(Err(ActivationError::WizardGone))
            }
        }
        crate::telemetry::activation_redeemed();
        self.send_confirmation(email, &token, lang).await;
        Ok(Ok(WizardNext::Finished {
            email_masked: mask_email(email),
            login: new_login
                .or_else(|| account.login.clone())
                .unwrap_or_default(),
        }))
    }

    /// The proposed login, numbered until no account holds it.
    async fn free_login(&self, account: &store::Account) -> Result<String, AppError> {
        let base = domain::login::proposed_login(
            &account.surname,
            &account.given_name,
            account.patronymic.as_deref(),
        );
        let mut candidate = base.clone();
        for n in 2..1000 {
            if self
                .store()
                .find_account_by_login(&candidate)
                .await?
                .is_none()
            {
                return Ok(candidate);
            }
            candidate = domain::login::numbered(&base, n);
        }
        let suffix: String = random_token()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        Ok(format!("{base}.{}", suffix.to_lowercase()))
    }

    /// Sends the confirmation link; a failure is logged, not shown: the
    /// person can ask for the link again from the login page.
    pub(crate) async fn send_confirmation(&self, email: &str, token: &str, lang: Lang) {
        let url = format!(
            "{}/activate/confirm?token={token}",
            self.config().server.public_url.trim_end_matches('/')
        );
        let hours = self.config().activation.email_link_hours;
        let message = Message {
            to: Recipient::Email(email.to_string()),
            subject: lang
                .pick(
                    "Подтвердите адрес электронной почты для дневника",
                    "Confirm your e-mail address for the e-diary",
                )
                .to_string(),
            body: match lang {
                Lang::Ru => format!(
                    "Здравствуйте!\n\nЧтобы завершить активацию учётной записи электронного дневника, откройте ссылку (действует {hours} ч, один раз):\n\n{url}\n\nЕсли вы не активировали дневник, просто удалите это письмо."
                ),
                Lang::En => format!(
                    "Hello,\n\nTo finish activating your e-diary account, open this link (valid for {hours} h, once):\n\n{url}\n\nIf you did not activate an e-diary, just delete this message."
                ),
            },
            kind: "confirm_email",
        };
        if let Err(error) = self.outbox().send(message).await {
            tracing::error!(error = %error, "confirmation e-mail not sent");
        }
    }

    /// Opens a confirmation link: the e-mail is confirmed and the account
    /// becomes active. `false` for an unknown, used or expired link.
    pub async fn confirm_email(&self, token: &str) -> Result<bool, AppError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(false);
        }
        let hash = self.lookup_hash("email_token", token);
        Ok(self.store().confirm_email(&hash).await?.is_some())
    }
}
