//! Account recovery: a forgotten password (a one-time link to the confirmed
//! e-mail), a forgotten login (sent to the confirmed e-mail when the birth
//! date matches too) and a parent setting a confirmed child's password.
//!
//! The answer to a request never tells whether an account matched: the
//! page is the same, and so is the work done before answering (one lookup,
//! a keyed hash and the per-target limit). What only a match needs (storing
//! the link, the mail itself, which may wait on an SMTP server) runs after
//! the answer, on its own task.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use secrecy::SecretString;
use uuid::Uuid;

use crate::shared::Session;
use crate::{Accounts, AppError};
use ::texts::prelude::*;
use domain::access::Basis;
use domain::activation::parse_email;
use domain::password::PasswordProblem;
use ephemeral::sessions::{random_token, tokens_equal};
use i18n::Lang;
use notify::{Message, Outbox, Recipient};
use store::{Account, Store};

/// One recovery mail per account and purpose in this window.
const MAIL_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Why a recovery form was refused. None of these depends on whether an
/// account matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryRefusal {
    /// Too many recovery forms from this address.
    RateLimited,
    /// The login / e-mail field is empty.
    NothingTyped,
    BadEmail,
    BadBirthDate,
    /// The reset link is unknown, used or expired.
    LinkGone,
    PasswordsDiffer,
    WeakPassword(Vec<PasswordProblem>),
    /// A parent form for a child without a confirmed parent link.
    NotYourChild,
    /// The child's account is not active yet (never activated, blocked).
    ChildNotActive,
}

impl RecoveryRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            RecoveryRefusal::RateLimited => "recovery.rate_limited",
            RecoveryRefusal::NothingTyped => "recovery.empty",
            RecoveryRefusal::BadEmail => "contact.email",
            RecoveryRefusal::BadBirthDate => "recovery.birth_date",
            RecoveryRefusal::LinkGone => "recovery.link_gone",
            RecoveryRefusal::PasswordsDiffer => "password.differ",
            RecoveryRefusal::WeakPassword(_) => "password.weak",
            RecoveryRefusal::NotYourChild => "family.not_confirmed_parent",
            RecoveryRefusal::ChildNotActive => "account.not_activated",
        }
    }

    pub fn messages(&self, lang: Lang) -> Vec<String> {
        let one = |ru: &str, en: &str| vec![lang.pick(ru, en).to_string()];
        match self {
            RecoveryRefusal::RateLimited => one(
                "Слишком много запросов с этого адреса. Подождите минуту и попробуйте снова.",
                "Too many requests from this address. Wait a minute and try again.",
            ),
            RecoveryRefusal::NothingTyped => one(
                "Введите логин дневника или адрес электронной почты.",
                "Enter your e-diary login or e-mail address.",
            ),
            RecoveryRefusal::BadEmail => one(
                "Адрес электронной почты выглядит неверно, проверьте его.",
                "The e-mail address does not look right; check it.",
            ),
            RecoveryRefusal::BadBirthDate => one(
                "Введите дату рождения в виде ДД.ММ.ГГГГ, например 12.04.1985.",
                "Enter the date of birth as DD.MM.YYYY, e.g. 12.04.1985.",
            ),
            RecoveryRefusal::LinkGone => one(
                "Ссылка не действует: она уже использована, устарела или скопирована не полностью. Запросите новую.",
                "This link does not work: it has been used, has expired or was not copied completely. Ask for a new one.",
            ),
            RecoveryRefusal::PasswordsDiffer => {
                one("Пароли в двух полях не совпадают.", "The two passwords differ.")
            }
            RecoveryRefusal::WeakPassword(problems) => {
                problems.iter().map(|p| p.message(lang)).collect()
            }
            RecoveryRefusal::NotYourChild => one(
                "Задать пароль можно только своему ребёнку, связь с которым подтверждена.",
                "You can set a password only for your own child whose link to you is confirmed.",
            ),
            RecoveryRefusal::ChildNotActive => one(
                "Учётная запись ребёнка ещё не активирована (или заблокирована). Активируйте её кодом с листа-приглашения от школы.",
                "The child's account is not activated yet (or is blocked). Activate it with the code from the school's invitation sheet.",
            ),
        }
    }
}

/// What the new-password page shows for a live reset link.
#[derive(Debug, Clone)]
pub struct ResetLink {
    pub login: String,
}

/// What the parent's form shows about the child.
#[derive(Debug, Clone)]
pub struct ChildPasswordView {
    pub pupil_id: Uuid,
    pub full_name: String,
    pub login: Option<String>,
    pub csrf: String,
}

/// A mail decided in the request, stored and sent after the answer.
struct Delivery {
    account_id: Uuid,
    email: String,
    /// A reset link's keyed hash; `None` for a login reminder.
    link_hash: Option<String>,
    message: Message,
}

fn full_name(account: &Account) -> String {
    match &account.patronymic {
        Some(p) => format!("{} {} {p}", account.surname, account.given_name),
        None => format!("{} {}", account.surname, account.given_name),
    }
}

/// `YYYY-MM-DD` (what a date field sends) or `DD.MM.YYYY` (what people type).
fn parse_birth_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .ok()
}

impl Accounts<'_> {
    /// The per-address limit of every recovery form. Recovery is the way
    /// round the password form, so it shares that form's allowance (a
    /// school's computer room shares one address).
    async fn recovery_allowed(&self, client: &str) -> Result<bool, AppError> {
        let limit = self.config().activation.password_attempts_per_minute;
        let decision = self
            .rate
            .hit(&format!("recover:{client}"), limit, Duration::from_secs(60))
            .await?;
        if !decision.allowed {
            crate::telemetry::rate_limited("recovery");
        }
        Ok(decision.allowed)
    }

    /// At most one mail per `purpose` and target in [`MAIL_WINDOW`]: the
    /// matched accounts, or the typed value when nothing matched (the same
    /// work either way).
    async fn mail_allowed(&self, purpose: &str, target: &str) -> Result<bool, AppError> {
        let decision = self
            .rate
            .hit(&format!("recover-mail:{purpose}:{target}"), 1, MAIL_WINDOW)
            .await?;
        Ok(decision.allowed)
    }

    fn public_url(&self) -> &str {
        self.config().server.public_url.trim_end_matches('/')
    }

    /// Stores the reset links and sends the mails after the answer: an SMTP
    /// server's latency must not tell whether an account matched.
    fn deliver_later(&self, deliveries: Vec<Delivery>) {
        if deliveries.is_empty() {
            return;
        }
        let store: Store = self.store().clone();
        let outbox: Arc<dyn Outbox> = self.outbox.clone();
        let expires_at = self.now()
            + chrono::Duration::hours(i64::from(self.config().activation.email_link_hours));
        tokio::spawn(async move {
            for delivery in deliveries {
                if let Some(link_hash) = &delivery.link_hash {
                    let stored = store
                        .add_email_token(
                            link_hash,
                            delivery.account_id,
                            "reset_password",
                            &delivery.email,
                            expires_at,
                        )
                        .await;
                    if let Err(error) = stored {
                        tracing::error!(account = %delivery.account_id, error = %error, "reset link not stored");
                        continue;
                    }
                }
                let kind = delivery.message.kind;
                match outbox.send(delivery.message).await {
                    Ok(()) => {
                        tracing::info!(account = %delivery.account_id, kind, "recovery mail sent")
                    }
                    Err(error) => {
                        tracing::error!(account = %delivery.account_id, kind, error = %error, "recovery mail not sent")
                    }
                }
            }
        });
    }

    fn reset_message(&self, account: &Account, email: &str, token: &str, lang: Lang) -> Message {
        let url = format!("{}/recover/reset?token={token}", self.public_url());
        let hours = self.config().activation.email_link_hours;
        let login = account.login.clone().unwrap_or_default();
        Message {
            to: Recipient::Email(email.to_string()),
            subject: lang
                .pick(
                    "Восстановление пароля электронного дневника",
                    "Resetting your e-diary password",
                )
                .to_string(),
            body: match lang {
                Lang::Ru => format!(
                    "Здравствуйте!\n\nКто-то (возможно, вы) попросил сменить пароль учётной записи электронного дневника с логином {login}. Чтобы задать новый пароль, откройте ссылку (действует {hours} ч, один раз):\n\n{url}\n\nЕсли вы не просили об этом, просто удалите письмо: пароль останется прежним."
                ),
                Lang::En => format!(
                    "Hello,\n\nSomeone (probably you) asked to change the password of the e-diary account with the login {login}. To choose a new password, open this link (valid for {hours} h, once):\n\n{url}\n\nIf you did not ask for this, just delete this message: the password stays as it is."
                ),
            },
            kind: "reset_password",
        }
    }

    fn login_message(&self, email: &str, logins: &[String], lang: Lang) -> Message {
        let list = logins.join(", ");
        let url = format!("{}/login/password", self.public_url());
        Message {
            to: Recipient::Email(email.to_string()),
            subject: lang
                .pick("Ваш логин электронного дневника", "Your e-diary login")
                .to_string(),
            body: match lang {
                Lang::Ru => format!(
                    "Здравствуйте!\n\nКто-то (возможно, вы) попросил напомнить логин электронного дневника для этого адреса и даты рождения.\n\nЛогин: {list}\n\nВойти: {url}\n\nЕсли вы не просили об этом, просто удалите письмо."
                ),
                Lang::En => format!(
                    "Hello,\n\nSomeone (probably you) asked for the e-diary login of this address and date of birth.\n\nLogin: {list}\n\nLog in: {url}\n\nIf you did not ask for this, just delete this message."
                ),
            },
            kind: "recover_login",
        }
    }

    /// A forgotten password: when `who` (a login or an e-mail) names active
    /// accounts with a confirmed e-mail, each gets a one-time link there.
    /// `Ok(Ok(()))` whether or not anything matched.
    pub async fn request_password_reset(
        &self,
        who: &str,
        client: &str,
        lang: Lang,
    ) -> Result<Result<(), RecoveryRefusal>, AppError> {
        if !self.recovery_allowed(client).await? {
            return Ok(Err(RecoveryRefusal::RateLimited));
        }
        let who: String = who.trim().chars().take(254).collect();
        if who.is_empty() {
            return Ok(Err(RecoveryRefusal::NothingTyped));
        }
        let candidates: Vec<Account> = if who.contains('@') {
            // A malformed address matches nothing, like an unknown one.
            let email = parse_email(&who).unwrap_or_default();
            self.store().recoverable_accounts_by_email(&email).await?
        } else {
            self.store()
                .find_account_by_login(&who.to_lowercase())
                .await?
                .into_iter()
                .filter(|a| a.status == "active" && a.email_verified && a.login.is_some())
                .collect()
        };
        // Either way one keyed hash and one limiter hit per target before
        // the answer; a match's link is stored and mailed after it.
        if candidates.is_empty() {
            let target = self.lookup_hash("recover", &who.to_lowercase());
            self.mail_allowed("reset", &target).await?;
            return Ok(Ok(()));
        }
        let mut deliveries = Vec::new();
        for account in candidates {
            let Some(email) = account.email.clone() else {
                continue;
            };
            let token = random_token();
            let link_hash = self.lookup_hash("email_token", &token);
            if !self.mail_allowed("reset", &account.id.to_string()).await? {
                continue;
            }
            deliveries.push(Delivery {
                account_id: account.id,
                message: self.reset_message(&account, &email, &token, lang),
                email,
                link_hash: Some(link_hash),
            });
        }
        self.deliver_later(deliveries);
        Ok(Ok(()))
    }

    /// A forgotten login: sent to `email` when active accounts have it
    /// confirmed and were born on `birth_date`. `Ok(Ok(()))` whether or not
    /// anything matched.
    pub async fn request_login_reminder(
        &self,
        email: &str,
        birth_date: &str,
        client: &str,
        lang: Lang,
    ) -> Result<Result<(), RecoveryRefusal>, AppError> {
        if !self.recovery_allowed(client).await? {
            return Ok(Err(RecoveryRefusal::RateLimited));
        }
        let Ok(email) = parse_email(email) else {
            return Ok(Err(RecoveryRefusal::BadEmail));
        };
        let Some(birth_date) = parse_birth_date(birth_date) else {
            return Ok(Err(RecoveryRefusal::BadBirthDate));
        };
        let matched: Vec<Account> = self
            .store()
            .recoverable_accounts_by_email(&email)
            .await?
            .into_iter()
            .filter(|a| a.birth_date == Some(birth_date))
            .collect();
        let logins: Vec<String> = matched.iter().filter_map(|a| a.login.clone()).collect();
        // One reminder per address and date (twins share both), matched or not.
        let target = self.lookup_hash("recover", &format!("{email}|{birth_date}"));
        if !self.mail_allowed("login", &target).await? || logins.is_empty() {
            return Ok(Ok(()));
        }
        let Some(first) = matched.first() else {
            return Ok(Ok(()));
        };
        self.deliver_later(vec![Delivery {
            account_id: first.id,
            message: self.login_message(&email, &logins, lang),
            email,
            link_hash: None,
        }]);
        Ok(Ok(()))
    }

    /// The account behind a live reset link, for the new-password page.
    pub async fn reset_link(&self, token: &str) -> Result<Option<ResetLink>, AppError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let hash = self.lookup_hash("email_token", token);
        Ok(self
            .store()
            .reset_link_account(&hash)
            .await?
            .map(|account| ResetLink {
                login: account.login.unwrap_or_default(),
            }))
    }

    /// Checks a new password against the account's data and hashes it
    /// (argon2id off the async threads).
    async fn new_password_hash(
        &self,
        account: &Account,
        password: SecretString,
        repeat: SecretString,
    ) -> Result<Result<String, RecoveryRefusal>, AppError> {
        use crate::account::password::{choose, PasswordRefusal};
        Ok(choose(account, password, repeat)
            .await?
            .map_err(|refusal| match refusal {
                PasswordRefusal::Differ => RecoveryRefusal::PasswordsDiffer,
                PasswordRefusal::Weak(problems) => RecoveryRefusal::WeakPassword(problems),
            }))
    }

    /// After a password change: every session of the account ends, and
    /// failed logins no longer count against it.
    async fn after_password_change(&self, account: &Account) -> Result<(), AppError> {
        self.end_all_sessions(account.id, "account", "password changed")
            .await?;
        if let Some(login) = &account.login {
            // The key `check_password` (credentials.rs) counts failures under.
            let key = format!(
                "pwfail:{}",
                self.lookup_hash("login", &login.to_lowercase())
            );
            self.ephemeral().delete(&key).await?;
        }
        Ok(())
    }

    /// Sets a new password by a reset link, using the link once; ends all
    /// the account's sessions.
    pub async fn reset_password(
        &self,
        token: &str,
        password: SecretString,
        repeat: SecretString,
        client: &str,
    ) -> Result<Result<(), RecoveryRefusal>, AppError> {
        if !self.recovery_allowed(client).await? {
            return Ok(Err(RecoveryRefusal::RateLimited));
        }
        if token.is_empty() || token.len() > 128 {
            return Ok(Err(RecoveryRefusal::LinkGone));
        }
        let token_hash = self.lookup_hash("email_token", token);
        let Some(account) = self.store().reset_link_account(&token_hash).await? else {
            return Ok(Err(RecoveryRefusal::LinkGone));
        };
        let hash = match self.new_password_hash(&account, password, repeat).await? {
            Ok(hash) => hash,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(reset) = self
            .store()
            .reset_password_by_link(&token_hash, &hash)
            .await?
        else {
            return Ok(Err(RecoveryRefusal::LinkGone));
        };
        self.after_password_change(&account).await?;
        tracing::info!(account = %reset.account_id, "password reset by e-mail link");
        Ok(Ok(()))
    }

    /// The child, when the session's account is a parent with a confirmed
    /// link to them (the access rule of [`App::my_access`]).
    async fn my_child(
        &self,
        session: &Session,
        pupil_id: Uuid,
    ) -> Result<Result<Account, RecoveryRefusal>, AppError> {
        let access = self.family().my_access(session).await?;
        let parent = access
            .pupils
            .iter()
            .any(|p| p.pupil_id == pupil_id && p.basis == Basis::Parent);
        if !parent {
            return Ok(Err(RecoveryRefusal::NotYourChild));
        }
        let child = self.store().get_account(pupil_id).await?;
        if child.status != "active" || child.login.is_none() {
            return Ok(Err(RecoveryRefusal::ChildNotActive));
        }
        Ok(Ok(child))
    }

    /// The parent's form for a child's new password.
    pub async fn child_password_view(
        &self,
        session: &Session,
        pupil_id: Uuid,
    ) -> Result<Result<ChildPasswordView, RecoveryRefusal>, AppError> {
        Ok(self
            .my_child(session, pupil_id)
            .await?
            .map(|child| ChildPasswordView {
                pupil_id,
                full_name: full_name(&child),
                login: child.login.clone(),
                csrf: session.data.csrf.clone(),
            }))
    }

    /// A parent with a confirmed link sets the child's password; the
    /// child's sessions end. Audited with the parent as actor.
    pub async fn set_child_password(
        &self,
        session: &Session,
        pupil_id: Uuid,
        csrf: &str,
        password: SecretString,
        repeat: SecretString,
        client: &str,
    ) -> Result<Result<ChildPasswordView, RecoveryRefusal>, AppError> {
        if !tokens_equal(csrf, &session.data.csrf) {
            return Err(AppError::CsrfMismatch);
        }
        if !self.recovery_allowed(client).await? {
            return Ok(Err(RecoveryRefusal::RateLimited));
        }
        let child = match self.my_child(session, pupil_id).await? {
            Ok(child) => child,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let hash = match self.new_password_hash(&child, password, repeat).await? {
            Ok(hash) => hash,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let parent = session.data.account_id;
        if !self
            .store()
            .reset_password_by_parent(parent, pupil_id, &hash)
            .await?
        {
            return Ok(Err(RecoveryRefusal::NotYourChild));
        }
        self.after_password_change(&child).await?;
        tracing::info!(parent = %parent, pupil = %pupil_id, "child's password set by a parent");
        Ok(Ok(ChildPasswordView {
            pupil_id,
            full_name: full_name(&child),
            login: child.login.clone(),
            csrf: session.data.csrf.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_in_both_spellings() {
        let date = NaiveDate::from_ymd_opt(1985, 4, 12);
        let cases = [
            ("1985-04-12", date),
            (" 12.04.1985 ", date),
            ("12/04/1985", None),
            ("1985-13-01", None),
            ("", None),
        ];
        for (typed, expected) in cases {
            assert_eq!(parse_birth_date(typed), expected, "{typed}");
        }
    }
}
