//! ESIA's signing certificates as an operator needs to see them: subject,
//! serial and validity dates in a refusal (`token.certificate_expired`,
//! `token.certificate_not_yet_valid`) and in logs, and a warning — a log
//! line and a gauge — some days before one expires, so that the next
//! certificate is asked for in time (ESIA sends it out of band).
//!
//! Gauges, per provider and certificate (serial):
//! `esia_link_certificate_expiry_days` (whole days left, negative once
//! expired) and `esia_link_certificate_expiring` (1 within the provider's
//! `certificate_warning_days` of the end, or past it, or not yet valid;
//! else 0). They are set when certificates are loaded and refreshed hourly;
//! a certificate removed from the configuration stops being refreshed and
//! its series disappears (the recorder drops idle gauges, see
//! `crate::metrics`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

use super::keys::VerifyingKey;

const DAY_SECS: i64 = 86_400;

/// Who a certificate names and when it is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    /// RFC 4514 text (`CN=...,O=...`), at most 256 characters.
    pub subject: String,
    /// The serial number's bytes in hex, colon-separated.
    pub serial: String,
    /// Unix seconds; both bounds are inclusive (RFC 5280 §4.1.2.5).
    pub not_before: i64,
    pub not_after: i64,
}

impl CertificateInfo {
    pub fn of(certificate: &Certificate) -> CertificateInfo {
        let tbs = certificate.tbs_certificate();
        let validity = tbs.validity();
        let seconds = |time: &x509_cert::time::Time| time.to_unix_duration().as_secs() as i64;
        CertificateInfo {
            subject: tbs.subject().to_string().chars().take(256).collect(),
            serial: tbs.serial_number().to_string(),
            not_before: seconds(&validity.not_before),
            not_after: seconds(&validity.not_after),
        }
    }

    /// Whole days from `now` to the end of validity (negative once past).
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(DAY_SECS)
    }
}

impl std::fmt::Display for CertificateInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (serial {}, valid {} to {})",
            self.subject,
            self.serial,
            utc_text(self.not_before),
            utc_text(self.not_after)
        )
    }
}

/// `2026-03-01 12:00:00 UTC`.
pub fn utc_text(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// Where a certificate stands at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Valid,
    /// Valid, and ends within the warning period.
    Expiring,
    Expired,
    NotYetValid,
}

impl CertificateInfo {
    pub fn standing(&self, now: i64, warning_days: u32) -> Standing {
        if now < self.not_before {
            Standing::NotYetValid
        } else if now > self.not_after {
            Standing::Expired
        } else if self.not_after - now <= i64::from(warning_days) * DAY_SECS {
            Standing::Expiring
        } else {
            Standing::Valid
        }
    }
}

/// Sets the gauges of every certificate among `keys` and, when `log`,
/// warns about each one that is not simply valid.
pub fn report_expiry(
    provider: &str,
    keys: &[VerifyingKey],
    now: i64,
    warning_days: u32,
    log: bool,
) {
    for (label, certificate) in keys
        .iter()
        .filter_map(|key| Some((&key.label, key.certificate.as_ref()?)))
    {
        let standing = certificate.standing(now, warning_days);
        let days = certificate.days_left(now);
        let labels = [
            ("provider", provider.to_string()),
            ("certificate", certificate.serial.clone()),
        ];
        metrics::gauge!("esia_link_certificate_expiry_days", &labels).set(days as f64);
        metrics::gauge!("esia_link_certificate_expiring", &labels).set(
            if standing == Standing::Valid {
                0.0
            } else {
                1.0
            },
        );
        if !log {
            continue;
        }
        match standing {
            Standing::Valid => {}
            Standing::Expiring => tracing::warn!(
                provider,
                file = %label,
                certificate = %certificate,
                days_left = days,
                "the identity provider's signing certificate expires soon: ask for the next one and add it to `certificates`"
            ),
            Standing::Expired => tracing::warn!(
                provider,
                file = %label,
                certificate = %certificate,
                "the identity provider's signing certificate has expired: tokens it signed are refused (token.certificate_expired)"
            ),
            Standing::NotYetValid => tracing::warn!(
                provider,
                file = %label,
                certificate = %certificate,
                "the identity provider's signing certificate is not valid yet: tokens it signs are refused until then (token.certificate_not_yet_valid)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standing_and_days_left_table() {
        let certificate = CertificateInfo {
            subject: "CN=ESIA".into(),
            serial: "01".into(),
            not_before: 100 * DAY_SECS,
            not_after: 200 * DAY_SECS,
        };
        let cases = [
            (100 * DAY_SECS - 1, Standing::NotYetValid, 100),
            (100 * DAY_SECS, Standing::Valid, 100),
            (169 * DAY_SECS, Standing::Valid, 31),
            (170 * DAY_SECS, Standing::Expiring, 30),
            (200 * DAY_SECS, Standing::Expiring, 0),
            (200 * DAY_SECS + 1, Standing::Expired, -1),
            (230 * DAY_SECS, Standing::Expired, -30),
        ];
        for (now, standing, days) in cases {
            assert_eq!(certificate.standing(now, 30), standing, "{now}");
            assert_eq!(certificate.days_left(now), days, "{now}");
        }
        assert_eq!(
            certificate.standing(199 * DAY_SECS, 0),
            Standing::Valid,
            "0 days: no early warning"
        );
        assert_eq!(
            certificate.to_string(),
            "CN=ESIA (serial 01, valid 1970-04-11 00:00:00 UTC to 1970-07-20 00:00:00 UTC)"
        );
    }
}
