//! The activation wizard's rules: which step comes next, what a code's
//! state means for the person holding it, and the contact details the
//! wizard asks for (e-mail, Russian mobile number).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The wizard's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Check the personal data the school entered.
    Data,
    /// E-mail and mobile phone.
    Contacts,
    /// The permanent password.
    Password,
    /// Keep the login or choose a new one; finishing consumes the code.
    Login,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Data, Step::Contacts, Step::Password, Step::Login];

    pub fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }
}

/// What the wizard has been told so far; kept with the code so that an
/// abandoned wizard resumes. Holds a password *hash*, never a password.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WizardProgress {
    #[serde(default)]
    pub data_confirmed: bool,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub password_hash: Option<String>,
}

impl fmt::Debug for WizardProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WizardProgress")
            .field("data_confirmed", &self.data_confirmed)
            .field("has_email", &self.email.is_some())
            .field("has_phone", &self.phone.is_some())
            .field("has_password", &self.password_hash.is_some())
            .finish()
    }
}

impl WizardProgress {
    /// The first step not yet done.
    pub fn next_step(&self) -> Step {
        if !self.data_confirmed {
            Step::Data
        } else if self.email.is_none() || self.phone.is_none() {
            Step::Contacts
        } else if self.password_hash.is_none() {
            Step::Password
        } else {
            Step::Login
        }
    }
}

/// Why a code cannot be used, in words for the person holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    #[error("no such code")]
    Unknown,
    #[error("the code has expired")]
    Expired,
    #[error("the code has been used")]
    Used,
    #[error("a newer code replaced this one")]
    Revoked,
    #[error("the account is active already")]
    AccountActive,
    #[error("the account is locked")]
    AccountBlocked,
}

impl CodeRefusal {
    pub fn code(self) -> &'static str {
        match self {
            CodeRefusal::Unknown => "code.unknown",
            CodeRefusal::Expired => "code.expired",
            CodeRefusal::Used => "code.used",
            CodeRefusal::Revoked => "code.revoked",
            CodeRefusal::AccountActive => "code.account_active",
            CodeRefusal::AccountBlocked => "code.account_blocked",
        }
    }
}

/// A stored code's state at `now`.
pub fn code_state(
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), CodeRefusal> {
    if used_at.is_some() {
        Err(CodeRefusal::Used)
    } else if revoked_at.is_some() {
        Err(CodeRefusal::Revoked)
    } else if expires_at <= now {
        Err(CodeRefusal::Expired)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactProblem {
    #[error("the e-mail address is not valid")]
    BadEmail,
    #[error("the phone number is not a Russian mobile number")]
    BadPhone,
}

/// `name@domain.tld`, trimmed, the domain in lower case.
pub fn parse_email(text: &str) -> Result<String, ContactProblem> {
    let text = text.trim();
    let (local, domain) = text.rsplit_once('@').ok_or(ContactProblem::BadEmail)?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && text.len() <= 254
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if ok {
        Ok(format!("{local}@{}", domain.to_lowercase()))
    } else {
        Err(ContactProblem::BadEmail)
    }
}

/// A Russian mobile number in any common spelling → `+79XXXXXXXXX`.
pub fn parse_phone(text: &str) -> Result<String, ContactProblem> {
    let mut digits = String::new();
    for c in text.trim().chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '+' | '\u{a0}' | '.' => {}
            _ => return Err(ContactProblem::BadPhone),
        }
    }
    let national = match digits.len() {
        11 if digits.starts_with('7') || digits.starts_with('8') => &digits[1..],
        10 => &digits[..],
        _ => return Err(ContactProblem::BadPhone),
    };
    if national.starts_with('9') {
        Ok(format!("+7{national}"))
    } else {
        Err(ContactProblem::BadPhone)
    }
}

/// `i*****a@mail.ru`, `+7 9** ***-**-67`: enough to recognise one's own.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().unwrap_or('*');
            format!("{first}*****@{domain}")
        }
        None => "*****".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn steps_follow_the_progress() {
        let mut p = WizardProgress::default();
        assert_eq!(p.next_step(), Step::Data);
        p.data_confirmed = true;
        assert_eq!(p.next_step(), Step::Contacts);
        p.email = Some("a@b.ru".into());
        assert_eq!(p.next_step(), Step::Contacts, "the phone is required too");
        p.phone = Some("+79001234567".into());
        assert_eq!(p.next_step(), Step::Password);
        p.password_hash = Some("$argon2id$...".into());
        assert_eq!(p.next_step(), Step::Login);
        assert!(!format!("{p:?}").contains("argon2"));
    }

    #[test]
    fn code_states() {
        let now = Utc::now();
        let later = now + Duration::days(1);
        let cases = [
            (later, None, None, Ok(())),
            (now, None, None, Err(CodeRefusal::Expired)),
            (later, Some(now), None, Err(CodeRefusal::Used)),
            (later, None, Some(now), Err(CodeRefusal::Revoked)),
            (now, Some(now), Some(now), Err(CodeRefusal::Used)),
        ];
        for (expires, used, revoked, expected) in cases {
            assert_eq!(code_state(expires, used, revoked, now), expected);
        }
    }

    #[test]
    fn emails_and_phones_as_people_type_them() {
        assert_eq!(
            parse_email(" Ivanova@Mail.RU ").as_deref(),
            Ok("Ivanova@mail.ru")
        );
        for bad in [
            "",
            "ivanova",
            "a@b",
            "a b@c.ru",
            "@mail.ru",
            "a@.ru",
            "a@mail..ru",
        ] {
            assert_eq!(parse_email(bad), Err(ContactProblem::BadEmail), "{bad}");
        }
        for (typed, canonical) in [
            ("+7 (912) 345-67-89", "+79123456789"),
            ("89123456789", "+79123456789"),
            ("9123456789", "+79123456789"),
        ] {
            assert_eq!(parse_phone(typed).as_deref(), Ok(canonical), "{typed}");
        }
        for bad in ["+7 (495) 123-45-67", "12345", "8912345678x", ""] {
            assert_eq!(parse_phone(bad), Err(ContactProblem::BadPhone), "{bad}");
        }
        assert_eq!(mask_email("ivanova@mail.ru"), "i*****@mail.ru");
    }
}
