//! Real delivery: e-mail over SMTP (lettre, rustls with ring), SMS through
//! an HTTP gateway that takes `POST {"phone": …, "text": …}`.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{Message, NotifyError, Outbox, Recipient};

const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
const SMS_TIMEOUT: Duration = Duration::from_secs(15);

pub struct SmtpOutbox {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    sms: Option<SmsGateway>,
}

struct SmsGateway {
    url: url::Url,
    client: reqwest::Client,
}

#[derive(Serialize)]
struct SmsRequest<'a> {
    phone: &'a str,
    text: &'a str,
}

impl SmtpOutbox {
    /// `smtp_url` as lettre reads it: `smtps://user:pass@host:465`, or
    /// `smtp://host:587?tls=required`; `from` a mailbox such as
    /// `Дневник <noreply@school.example>`. Connects only when sending.
    /// Errors name the `[notify]` field and never repeat the URL, which
    /// holds the SMTP password.
    pub fn new(
        smtp_url: &SecretString,
        from: &str,
        sms_gateway_url: Option<&str>,
    ) -> Result<SmtpOutbox, NotifyError> {
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url.expose_secret())
            .map_err(|e| NotifyError::Settings {
                field: "smtp_url",
                reason: format!(
                    "expected smtps://user:password@host:465 or smtp://host:587?tls=required ({e})"
                ),
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from: Mailbox = from.parse().map_err(|e| NotifyError::Settings {
            field: "from",
            reason: format!(
                "{from:?} is not a mailbox like \"Diary <noreply@school.example>\": {e}"
            ),
        })?;
        let sms = sms_gateway_url.map(SmsGateway::new).transpose()?;
        Ok(SmtpOutbox { mailer, from, sms })
    }

    async fn send_email(&self, address: &str, message: &Message) -> Result<(), NotifyError> {
        let to: Mailbox = address.parse().map_err(|_| NotifyError::BadAddress)?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| NotifyError::Build(e.to_string()))?;
        self.mailer
            .send(email)
            .await
            .map_err(|e| NotifyError::Smtp(describe_smtp_error(&e)))?;
        Ok(())
    }
}

/// The class of failure and the reply code, without the server's text,
/// which often repeats the recipient's address.
fn describe_smtp_error(error: &lettre::transport::smtp::Error) -> String {
    let class = if error.is_timeout() {
        "timed out"
    } else if error.is_tls() {
        "TLS error"
    } else if error.is_permanent() {
        "rejected permanently"
    } else if error.is_transient() {
        "rejected for now"
    } else {
        "connection or protocol error"
    };
    match error.status() {
        Some(code) => format!("{class} (reply {code})"),
        None => class.to_string(),
    }
}

impl SmsGateway {
    fn new(url: &str) -> Result<SmsGateway, NotifyError> {
        let bad = |reason: String| NotifyError::Settings {
            field: "sms_gateway_url",
            reason,
        };
        let url = url::Url::parse(url).map_err(|e| bad(format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(format!(
                "must be an http(s) URL, not {}:",
                url.scheme()
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(SMS_TIMEOUT)
            .build()
            .map_err(|e| bad(format!("cannot build the HTTP client: {e}")))?;
        Ok(SmsGateway { url, client })
    }

    async fn send(&self, phone: &str, text: &str) -> Result<(), NotifyError> {
        let response = self
            .client
            .post(self.url.clone())
            .json(&SmsRequest { phone, text })
            .send()
            .await
            // Without the URL: it may carry the gateway's key.
            .map_err(|e| NotifyError::SmsGateway(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(NotifyError::SmsGateway(format!("answered {status}")))
        }
    }
}

#[async_trait::async_trait]
impl Outbox for SmtpOutbox {
    async fn send(&self, message: Message) -> Result<(), NotifyError> {
        let result = match &message.to {
            Recipient::Email(address) => self.send_email(address, &message).await,
            Recipient::Phone(phone) => match &self.sms {
                Some(gateway) => gateway.send(phone, &message.body).await,
                None => Err(NotifyError::NoSmsGateway),
            },
        };
        let to = message.to.masked();
        match &result {
            Ok(()) => tracing::info!(kind = message.kind, %to, "message sent"),
            Err(error) => tracing::warn!(kind = message.kind, %to, %error, "message not sent"),
        }
        result
    }
}
