//! HTML pages (askama templates in `src/web/templates/`). Every string is
//! chosen in Rust for the request's language; templates only lay out.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::texts::OutcomeText;
use i18n::Lang;

/// What every page shares: language, title, the language switch.
pub struct Chrome {
    pub lang: &'static str,
    pub title: String,
    pub service_name: &'static str,
    pub switch_url: String,
    pub switch_lang: &'static str,
    pub switch_label: &'static str,
    pub footer: &'static str,
}

impl Chrome {
    /// `path` is the current path without query; the switch keeps it.
    pub fn new(lang: Lang, title: impl Into<String>, path: &str) -> Chrome {
        let other = match lang {
            Lang::Ru => Lang::En,
            Lang::En => Lang::Ru,
        };
        Chrome {
            lang: lang.code(),
            title: title.into(),
            service_name: lang.pick("Вход в электронный дневник", "E-diary login"),
            switch_url: format!("{path}?lang={}", other.code()),
            switch_lang: other.code(),
            switch_label: lang.pick("English", "Русский"),
            footer: lang.pick(
                "esia-link — вход в дневник через Госуслуги",
                "esia-link — e-diary login via State Services",
            ),
        }
    }
}

pub struct RegionOption {
    pub code: u16,
    pub name: String,
    pub selected: bool,
}

pub struct SelectedRegion {
    pub enabled: bool,
}

pub struct ProviderButton {
    pub id: String,
    pub url: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub heading: String,
    pub region_label: String,
    pub choose_label: String,
    pub regions: Vec<RegionOption>,
    pub selected: Option<SelectedRegion>,
    pub providers: Vec<ProviderButton>,
    pub providers_intro: String,
    pub disabled_text: String,
    pub pick_region_text: String,
    pub other_ways: String,
    pub password_label: String,
    /// The password login, with this page's `return_to`.
    pub password_url: String,
    pub activate_label: String,
    /// A one-line notice above the form ("you have logged out", "the app
    /// X asks you to log in").
    pub notice: Option<String>,
    /// The diary app that asks the person to sign in (kept when the region
    /// is chosen).
    pub app_client: Option<String>,
    pub return_to: Option<String>,
}

#[derive(Template)]
#[template(path = "outcome.html")]
pub struct OutcomePage {
    pub chrome: Chrome,
    pub outcome_code: &'static str,
    pub text: OutcomeText,
    pub reference: String,
    pub fixer_label: String,
    pub next_label: String,
    pub reference_label: String,
    pub again_label: String,
    /// Buttons under the steps: link by diary password or by activation
    /// code, or log in with the password.
    pub offers: Vec<Offer>,
    /// Whom to ask for help (failures only).
    pub support: Option<SupportBlock>,
}

/// Support contacts as a page shows them (`support.html`): the configured
/// ones, or general words when none are configured.
pub struct SupportBlock {
    pub heading: &'static str,
    pub items: Vec<SupportItem>,
    pub generic: &'static str,
}

pub struct SupportItem {
    pub label: &'static str,
    pub value: String,
    pub href: Option<String>,
}

impl SupportBlock {
    pub fn new(lang: Lang, contacts: Option<&config::SupportContacts>) -> SupportBlock {
        let mut items = Vec::new();
        if let Some(c) = contacts {
            if let Some(phone) = &c.phone {
                let dial: String = phone
                    .chars()
                    .filter(|ch| ch.is_ascii_digit() || *ch == '+')
                    .collect();
                items.push(SupportItem {
                    label: lang.pick("Телефон", "Phone"),
                    value: phone.clone(),
                    href: Some(format!("tel:{dial}")),
                });
            }
            if let Some(email) = &c.email {
                items.push(SupportItem {
                    label: lang.pick("Эл. почта", "E-mail"),
                    value: email.clone(),
                    href: Some(format!("mailto:{email}")),
                });
            }
            if let Some(url) = &c.url {
                items.push(SupportItem {
                    label: lang.pick("Сайт", "Website"),
                    value: url.trim_start_matches("https://").to_string(),
                    href: Some(url.clone()),
                });
            }
            let hours = match lang {
                Lang::Ru => c.hours.as_ref(),
                Lang::En => c.hours_en.as_ref().or(c.hours.as_ref()),
            };
            if let (Some(hours), false) = (hours, items.is_empty()) {
                items.push(SupportItem {
                    label: lang.pick("Часы работы", "Hours"),
                    value: hours.clone(),
                    href: None,
                });
            }
        }
        SupportBlock {
            heading: lang.pick("Служба поддержки", "Support"),
            items,
            generic: lang.pick(
                "Контакты службы поддержки указаны на сайте вашего электронного дневника; помочь может и администратор дневника в вашей школе.",
                "The support contacts are on your e-diary's website; the e-diary administrator at your school can help too.",
            ),
        }
    }
}

/// A way forward the outcome page offers as a button.
pub struct Offer {
    pub id: &'static str,
    pub url: String,
    pub label: String,
    pub explanation: String,
}

pub struct AccountLabels {
    pub name: String,
    pub role: String,
    pub school: String,
    pub region: String,
    pub identities: String,
    pub provider: String,
    pub tier: String,
    pub linked_at: String,
    pub logout: String,
    pub logout_everywhere: String,
}

pub struct LinkRow {
    pub provider: String,
    pub tier: String,
    pub linked_at: String,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub heading: String,
    /// Once, after the login that linked the identity.
    pub notice: Option<String>,
    pub labels: AccountLabels,
    pub full_name: String,
    pub role: String,
    pub school: Option<String>,
    pub region: Option<String>,
    pub links: Vec<LinkRow>,
    pub next: AccountNext,
    pub csrf: String,
    pub support: Option<SupportBlock>,
}

/// What the account page offers to do next; empty parts are not shown.
pub struct AccountNext {
    pub diaries_heading: String,
    pub diaries: Vec<Anchor>,
    pub upcoming: Vec<String>,
    pub invitations_heading: String,
    pub invitations: Vec<InvitationToAnswer>,
    pub accept: String,
    pub decline: String,
    /// Links: notifications (with the unread count), answers to give, the
    /// family page, the console.
    pub links: Vec<Anchor>,
    /// "Link State Services" buttons.
    pub link_providers: Vec<Anchor>,
    pub link_hint: String,
}

pub struct Anchor {
    pub id: String,
    pub href: String,
    pub text: String,
}

pub struct InvitationToAnswer {
    pub id: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub message: String,
    pub reference: Option<String>,
    pub reference_label: String,
    pub home_label: String,
    /// "Try again": the same request again (a kept login's callback).
    pub retry: Option<String>,
    pub retry_label: String,
}

impl MessagePage {
    pub fn new(
        lang: Lang,
        title: impl Into<String>,
        message: impl Into<String>,
        reference: Option<String>,
    ) -> MessagePage {
        MessagePage {
            chrome: Chrome::new(lang, title, "/"),
            message: message.into(),
            reference,
            reference_label: lang.pick("Код обращения:", "Reference code:").into(),
            home_label: lang.pick("На страницу входа", "Back to login").into(),
            retry: None,
            retry_label: lang.pick("Попробовать ещё раз", "Try again").into(),
        }
    }

    /// Offers "try again" at `url` (a path on this service).
    pub fn with_retry(mut self, url: String) -> MessagePage {
        self.retry = Some(url);
        self
    }
}

/// Renders a template with a status; a template error becomes a plain 500.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub struct OpsAccount {
    pub id: String,
    /// Name, role, school, login, SNILS (masked as the role requires); the id
    /// only folded, on request.
    pub summary: String,
    /// (provider, masked subject, linked at)
    pub identities: Vec<(String, String, String)>,
    /// The account is locked: the console offers to unlock it.
    pub blocked: bool,
    /// Who locked it, when and why, in words.
    pub lock_line: Option<String>,
}

pub struct OpsAttempt {
    pub looked_up: bool,
    pub at: String,
    pub reference: String,
    pub provider: String,
    /// The code, for the page's data attribute only.
    pub outcome: String,
    /// The outcome in words.
    pub outcome_label: String,
    pub error_code: String,
    pub tier: String,
    pub comparison: Vec<String>,
    pub side: String,
    pub steps: Vec<String>,
}

/// The activation wizard's words, chosen for the request's language.
pub struct WizardTexts {
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub next: &'static str,
    pub data_intro: &'static str,
    pub name: &'static str,
    pub birth_date: &'static str,
    pub school: &'static str,
    pub class: &'static str,
    pub role: &'static str,
    pub data_wrong: String,
    pub data_ok: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub password_rules: &'static str,
    pub password: &'static str,
    pub repeat: &'static str,
    pub login_current: &'static str,
    pub login_new: &'static str,
    pub login_once: &'static str,
    pub login_proposed: &'static str,
    pub login_proposed_hint: &'static str,
    pub finish: &'static str,
    pub to_login: &'static str,
}

impl WizardTexts {
    pub fn new(lang: Lang, support: &str) -> WizardTexts {
        WizardTexts {
            code_label: lang.pick("Код активации с листа-приглашения", "Activation code from the invitation sheet"),
            code_hint: lang.pick(
                "Регистр букв, пробелы и дефисы не важны.",
                "Letter case, spaces and hyphens do not matter.",
            ),
            next: lang.pick("Далее", "Next"),
            data_intro: lang.pick(
                "Проверьте данные, которые внесла школа.",
                "Check the data your school entered.",
            ),
            name: lang.pick("ФИО", "Full name"),
            birth_date: lang.pick("Дата рождения", "Date of birth"),
            school: lang.pick("Школа", "School"),
            class: lang.pick("Класс", "Class"),
            role: lang.pick("Роль", "Role"),
            data_wrong: format!(
                "{} {support}",
                lang.pick(
                    "Данные неверны? Исправляет их школа: обратитесь к классному руководителю или администратору дневника.",
                    "Is something wrong? Your school corrects it: contact the class teacher or the diary administrator."
                )
            ),
            data_ok: lang.pick("Данные верны", "The data is correct"),
            email: lang.pick("Электронная почта", "E-mail"),
            phone: lang.pick("Мобильный телефон", "Mobile phone"),
            password_rules: lang.pick(
                "Придумайте постоянный пароль: не короче 10 символов, без логина, имени и даты рождения, не из списка распространённых.",
                "Choose a permanent password: at least 10 characters, without your login, name or date of birth, not a common one.",
            ),
            password: lang.pick("Пароль", "Password"),
            repeat: lang.pick("Пароль ещё раз", "Password again"),
            login_current: lang.pick("Ваш логин:", "Your login:"),
            login_new: lang.pick("Новый логин (необязательно)", "New login (optional)"),
            login_once: lang.pick(
                "Логин можно сменить только один раз.",
                "A login can be changed only once.",
            ),
            login_proposed: lang.pick("Логин", "Login"),
            login_proposed_hint: lang.pick(
                "Школа не задала вам логин, и мы предложили его по фамилии и инициалам. Оставьте его или впишите свой: латинские буквы, цифры, точка, дефис или подчёркивание. Если оставить поле пустым, сохранится предложенный.",
                "Your school gave you no login, so we propose one from your surname and initials. Keep it or type your own: Latin letters, digits, dots, hyphens or underscores. Left empty, the proposal is kept.",
            ),
            finish: lang.pick("Завершить активацию", "Finish activation"),
            to_login: lang.pick("Войти", "Log in"),
        }
    }
}

#[derive(Template)]
#[template(path = "activate.html")]
pub struct ActivatePage {
    pub chrome: Chrome,
    pub t: WizardTexts,
    /// code, data, contacts, password, login, sent, confirmed
    pub step: &'static str,
    pub progress: Option<String>,
    pub errors: Vec<String>,
    pub typed: String,
    pub name: String,
    pub birth_date: String,
    pub school: String,
    pub class_name: Option<String>,
    pub role: String,
    pub email: String,
    pub phone: String,
    pub login: Option<String>,
    pub login_changeable: bool,
    /// A free login offered to a person without one (the field's value).
    pub proposed_login: Option<String>,
    pub csrf: String,
    pub sent: String,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
    pub intro: String,
    pub errors: Vec<String>,
    /// `/login/password` (with its `return_to`) or `/link`.
    pub action: String,
    pub login: String,
    pub login_label: &'static str,
    pub password_label: &'static str,
    pub submit_label: &'static str,
    pub activate_label: &'static str,
    /// On `/link`: the other proof, the activation code (`/link/code`).
    pub code_link_label: Option<&'static str>,
    pub support: Option<SupportBlock>,
}
