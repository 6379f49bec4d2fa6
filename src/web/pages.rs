//! HTML pages (askama templates in `src/web/templates/`). Every string is
//! chosen in Rust for the request's language; templates only lay out.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::i18n::Lang;
use crate::web::texts::OutcomeText;

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
    /// A one-line notice above the form ("you have logged out").
    pub notice: Option<String>,
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
    pub school: String,
    pub region: String,
    pub links: Vec<LinkRow>,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub message: String,
    pub reference: Option<String>,
    pub reference_label: String,
    pub home_label: String,
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
        }
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
    pub summary: String,
    /// (provider, masked subject, linked at)
    pub identities: Vec<(String, String, String)>,
}

pub struct OpsAttempt {
    pub looked_up: bool,
    pub at: String,
    pub reference: String,
    pub provider: String,
    pub outcome: String,
    pub error_code: String,
    pub tier: String,
    pub comparison: Vec<String>,
    pub side: String,
    pub steps: Vec<String>,
}

#[derive(Template)]
#[template(path = "ops.html")]
pub struct OpsPage {
    pub chrome: Chrome,
    pub query: String,
    pub may_unmask: bool,
    pub searched: bool,
    pub found: bool,
    pub accounts: Vec<OpsAccount>,
    pub attempts: Vec<OpsAttempt>,
    pub csrf: String,
    /// A one-line notice ("the link was removed").
    pub notice: Option<String>,
    /// Query label, button, unmask, nothing found, remedy, who fixes, tier,
    /// unlink, reason.
    pub labels: [String; 9],
}
