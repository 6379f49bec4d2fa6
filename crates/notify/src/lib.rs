//! Outbound e-mail and SMS (confirmation links, one-time codes) through one
//! interface, [`Outbox`]. The file outbox is the default and what tests
//! read; the SMTP outbox sends e-mail for real and SMS through an HTTP
//! gateway. [`NotifySettings::build`] picks one from the configuration.
//!
//! Bodies and addresses never reach the logs: bodies carry one-time links,
//! addresses are personal data. Logs get the kind and a masked recipient.

mod file;
mod settings;
mod smtp;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use file::{FileOutbox, StoredMessage};
pub use settings::{NotifyKind, NotifySettings};
pub use smtp::SmtpOutbox;

/// One message to one person.
#[derive(Clone)]
pub struct Message {
    pub to: Recipient,
    pub subject: String,
    pub body: String,
    /// What the message is for, e.g. `"confirm_email"`; logged, unlike the rest.
    pub kind: &'static str,
}

/// Redacted: the body holds one-time links, the address is personal data.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("kind", &self.kind)
            .field("to", &self.to.masked())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipient {
    Email(String),
    Phone(String),
}

impl Recipient {
    /// For logs: `i***@mail.ru`, `***67`.
    pub fn masked(&self) -> String {
        match self {
            Recipient::Email(address) => match address.rsplit_once('@') {
                Some((local, domain)) => {
                    let first: String = local.chars().take(1).collect();
                    format!("{first}***@{domain}")
                }
                None => "***".into(),
            },
            Recipient::Phone(number) => {
                let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
                let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
                format!("***{tail}")
            }
        }
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A configuration mistake; `field` is the key under `[notify]`.
    #[error("notify.{field}: {reason}")]
    Settings { field: &'static str, reason: String },
    #[error("cannot write to the outbox {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the recipient's e-mail address is not valid")]
    BadAddress,
    #[error("cannot build the e-mail: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(String),
    #[error("cannot send an SMS: no SMS gateway is configured (notify.sms_gateway_url)")]
    NoSmsGateway,
    #[error("the SMS gateway failed: {0}")]
    SmsGateway(String),
}

#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    async fn send(&self, message: Message) -> Result<(), NotifyError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_masked() {
        let cases = [
            (Recipient::Email("ivanova@mail.ru".into()), "i***@mail.ru"),
            (Recipient::Email("мария@почта.рф".into()), "м***@почта.рф"),
            (Recipient::Email("no-at-sign".into()), "***"),
            (Recipient::Phone("+7 (916) 123-45-67".into()), "***67"),
            (Recipient::Phone("5".into()), "***5"),
        ];
        for (recipient, masked) in cases {
            assert_eq!(recipient.masked(), masked);
            assert_eq!(format!("{recipient:?}"), masked);
        }
        let message = Message {
            to: Recipient::Email("ivanova@mail.ru".into()),
            subject: "Подтвердите адрес".into(),
            body: "https://diary.example/confirm/SECRET".into(),
            kind: "confirm_email",
        };
        let debug = format!("{message:?}");
        assert!(debug.contains("confirm_email") && debug.contains("i***@mail.ru"));
        assert!(!debug.contains("SECRET") && !debug.contains("ivanova"));
    }
}
