//! A refused console form shown again: what the operator typed, and the
//! error next to the field it is about, in the console they were in (not a
//! dead-end page). Which form it was is told by (form, account, provider):
//! the console lists one set of forms per account and linked identity.

use i18n::Lang;

pub(super) struct KeptForm {
    /// Which form: "unlink", "relink", "correct", "reset", "confirm",
    /// "lock" or "unlock".
    pub form: &'static str,
    pub account: String,
    /// The identity's provider (forms about a link); empty otherwise.
    pub provider: String,
    /// The fields as posted, by name.
    pub values: Vec<(&'static str, String)>,
    /// The field the error is about.
    pub field: &'static str,
    pub error: String,
}

impl KeptForm {
    pub fn new(
        form: &'static str,
        account: impl ToString,
        provider: &str,
        field: &'static str,
        error: impl Into<String>,
    ) -> KeptForm {
        KeptForm {
            form,
            account: account.to_string(),
            provider: provider.to_string(),
            values: Vec::new(),
            field,
            error: error.into(),
        }
    }

    /// Keeps `value` of the field `name`.
    pub fn with(mut self, name: &'static str, value: &str) -> KeptForm {
        self.values.push((name, value.to_string()));
        self
    }

    pub fn is(&self, form: &str, account: &str, provider: &str) -> bool {
        self.form == form && self.account == account && self.provider == provider
    }

    pub fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// What a reason shorter than five characters gets.
/// An operator's form about one account: the session's CSRF token, the
/// account, the reason for the log, and the console's lookup to go back to.
#[derive(serde::Deserialize)]
pub(super) struct AccountForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub q: String,
}

pub(super) fn reason_error(lang: Lang) -> &'static str {
    lang.pick(
        "Напишите причину — не короче пяти знаков: она попадёт в журнал.",
        "Write a reason of at least five characters: it goes to the audit log.",
    )
}
