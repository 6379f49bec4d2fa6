//! The `[notify]` configuration section and the outbox it builds.

use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};

use super::{FileOutbox, NotifyError, Outbox, SmtpOutbox};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyKind {
    /// Append to `<dir>/outbox.jsonl`; nothing leaves the machine.
    #[default]
    File,
    /// E-mail over SMTP, SMS through `sms_gateway_url`.
    Smtp,
}

/// ```toml
/// [notify]
/// kind = "smtp"
/// smtp_url = "smtps://user:password@smtp.school.example:465"
/// from = "Электронный дневник <noreply@school.example>"
/// sms_gateway_url = "https://sms.school.example/send"
/// ```
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    pub kind: NotifyKind,
    /// Where the file outbox writes.
    pub dir: PathBuf,
    /// Holds the SMTP password, hence a secret.
    #[serde(serialize_with = "masked")]
    pub smtp_url: Option<SecretString>,
    /// The sender's mailbox, `Name <address>` or a bare address.
    pub from: Option<String>,
    /// Without it, SMS are refused with [`NotifyError::NoSmsGateway`].
    pub sms_gateway_url: Option<String>,
}

/// `config show` prints that a URL is set, never the URL (it holds the password).
fn masked<S: Serializer>(value: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => serializer.serialize_some("********"),
        None => serializer.serialize_none(),
    }
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            kind: NotifyKind::File,
            dir: PathBuf::from("data/outbox"),
            smtp_url: None,
            from: None,
            sms_gateway_url: None,
        }
    }
}

impl NotifySettings {
    /// The configured outbox; a missing or malformed setting is an error
    /// naming its field (`notify.smtp_url: …`).
    pub fn build(&self) -> Result<Arc<dyn Outbox>, NotifyError> {
        match self.kind {
            NotifyKind::File => {
                if self.dir.as_os_str().is_empty() {
                    return Err(NotifyError::Settings {
                        field: "dir",
                        reason: "must not be empty".into(),
                    });
                }
                let outbox = FileOutbox::new(&self.dir).map_err(|e| NotifyError::Settings {
                    field: "dir",
                    reason: e.to_string(),
                })?;
                Ok(Arc::new(outbox))
            }
            NotifyKind::Smtp => {
                let smtp_url = self.smtp_url.as_ref().ok_or(NotifyError::Settings {
                    field: "smtp_url",
                    reason: "required when kind = \"smtp\"".into(),
                })?;
                let from = self
                    .from
                    .as_deref()
                    .filter(|from| !from.trim().is_empty())
                    .ok_or(NotifyError::Settings {
                        field: "from",
                        reason: "required when kind = \"smtp\"".into(),
                    })?;
                let sms = self
                    .sms_gateway_url
                    .as_deref()
                    .filter(|url| !url.trim().is_empty());
                Ok(Arc::new(SmtpOutbox::new(smtp_url, from, sms)?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Message, Recipient};
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Section {
        notify: NotifySettings,
    }

    fn parse(body: &str) -> Result<NotifySettings, String> {
        toml::from_str::<Section>(&format!("[notify]\n{body}\n"))
            .map(|s| s.notify)
            .map_err(|e| e.to_string())
    }

    fn build_error(body: &str) -> String {
        match parse(body).expect("parses").build() {
            Ok(_) => panic!("{body} should not build"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_to_the_file_outbox() {
        let settings = parse("").expect("empty section");
        assert_eq!(settings.kind, NotifyKind::File);
        assert_eq!(settings.dir, PathBuf::from("data/outbox"));
        assert!(settings.smtp_url.is_none() && settings.from.is_none());
    }

    #[test]
    fn parsing_errors_name_the_problem() {
        let cases = [
            ("kind = \"smpt\"", "smpt"),
            ("kind = \"smpt\"", "smtp"),
            ("smtp_ur = \"smtps://h\"", "smtp_ur"),
            ("dir = 5", "dir"),
        ];
        for (body, mentions) in cases {
            let error = parse(body).expect_err(body);
            assert!(error.contains(mentions), "{body}: {error}");
        }
    }

    #[test]
    fn build_errors_name_the_field_and_hide_the_password() {
        let cases = [
            ("kind = \"smtp\"\nfrom = \"a@b.example\"", "notify.smtp_url: required"),
            (
                "kind = \"smtp\"\nsmtp_url = \"smtps://u:hunter2@smtp.example:465\"",
                "notify.from: required",
            ),
            (
                "kind = \"smtp\"\nsmtp_url = \"imap://u:hunter2@smtp.example\"\nfrom = \"a@b.example\"",
                "notify.smtp_url:",
            ),
            (
                "kind = \"smtp\"\nsmtp_url = \"hunter2\"\nfrom = \"a@b.example\"",
                "notify.smtp_url:",
            ),
            (
                "kind = \"smtp\"\nsmtp_url = \"smtps://u:hunter2@smtp.example\"\nfrom = \"not a mailbox\"",
                "notify.from:",
            ),
            (
                "kind = \"smtp\"\nsmtp_url = \"smtps://u:hunter2@smtp.example\"\nfrom = \"a@b.example\"\nsms_gateway_url = \"ftp://sms.example\"",
                "notify.sms_gateway_url:",
            ),
            (
                "kind = \"smtp\"\nsmtp_url = \"smtps://u:hunter2@smtp.example\"\nfrom = \"a@b.example\"\nsms_gateway_url = \"not a url\"",
                "notify.sms_gateway_url:",
            ),
            ("dir = \"\"", "notify.dir:"),
        ];
        for (body, starts) in cases {
            let error = build_error(body);
            assert!(error.starts_with(starts), "{body}: {error}");
            assert!(!error.contains("hunter2"), "{error}");
        }
        let settings = parse("kind = \"smtp\"\nsmtp_url = \"smtps://u:hunter2@smtp.example\"")
            .expect("parses");
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn smtp_outbox_builds_and_refuses_sms_without_a_gateway() {
        let settings = parse(
            "kind = \"smtp\"\n\
             smtp_url = \"smtps://user:p%40ss@smtp.school.example:465\"\n\
             from = \"Электронный дневник <noreply@school.example>\"",
        )
        .expect("parses");
        let outbox = settings.build().expect("builds without connecting");
        let result = outbox
            .send(Message {
                to: Recipient::Phone("+79161234567".into()),
                subject: String::new(),
                body: "Код: 4821".into(),
                kind: "login_code",
            })
            .await;
        assert!(
            matches!(result, Err(NotifyError::NoSmsGateway)),
            "{result:?}"
        );

        let with_gateway = parse(
            "kind = \"smtp\"\n\
             smtp_url = \"smtp://smtp.school.example:587?tls=required\"\n\
             from = \"noreply@school.example\"\n\
             sms_gateway_url = \"https://sms.school.example/send\"",
        )
        .expect("parses");
        assert!(with_gateway.build().is_ok());
    }

    #[tokio::test]
    async fn file_kind_builds_a_working_outbox() {
        let dir = std::env::temp_dir().join(format!(
            "esia-link-notify-settings-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let settings = parse(&format!("dir = {:?}", dir.display().to_string())).expect("parses");
        let outbox = settings.build().expect("builds");
        outbox
            .send(Message {
                to: Recipient::Email("ivanova@mail.ru".into()),
                subject: "Подтвердите адрес".into(),
                body: "https://diary.example/confirm/abc".into(),
                kind: "confirm_email",
            })
            .await
            .expect("written");
        assert_eq!(FileOutbox::read(&dir).len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
