//! What serde cannot check: cross-field rules and value ranges. Every
//! problem is collected, so that `config show` can list them all; loading
//! refuses on the first.

use std::collections::BTreeMap;

use crate::{Config, ConfigError, EphemeralBackend, SupportContacts};

impl Config {
    /// Every problem of this configuration, each naming its key; empty when
    /// the configuration is complete and valid.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if url::Url::parse(&self.server.public_url).is_err() {
            problems.push(format!(
                "server.public_url is not a URL: {}",
                self.server.public_url
            ));
        }
        let ephemeral = &self.ephemeral;
        match (&ephemeral.redis_url, &ephemeral.sentinel) {
            (None, None) if ephemeral.backend == EphemeralBackend::Redis => problems.push(
                "ephemeral.backend = \"redis\" needs ephemeral.redis_url (one Redis) or [ephemeral.sentinel] (Redis behind Sentinel)".into(),
            ),
            (Some(_), Some(_)) => problems.push(
                "ephemeral: give either redis_url or [ephemeral.sentinel], not both".into(),
            ),
            _ => {}
        }
        if let Some(sentinel) = &ephemeral.sentinel {
            problems.extend(sentinel.problems("ephemeral.sentinel"));
        }
        let hmac_key = self.security.hmac_key.expose();
        if hmac_key.is_empty() {
            problems.push(
                "security.hmac_key is not set: give 32 or more random characters, the same on every instance (ESIA_LINK__SECURITY__HMAC_KEY)".into(),
            );
        } else if hmac_key.len() < 16 {
            problems.push("security.hmac_key must be at least 16 characters".into());
        }
        if self.apps.is_none() && !self.clients.is_empty() {
            problems.push(
                "[[clients]] are configured but [apps] is not: give [apps] its signing keys and subject key".into(),
            );
        }
        if self.family.opening_delay_hours > 24 * 30 {
            problems.push("family.opening_delay_hours: at most 720 (30 days)".into());
        }
        if !(1..=90).contains(&self.family.invitation_days) {
            problems.push("family.invitation_days: from 1 to 90".into());
        }
        let mut seen = BTreeMap::new();
        for region in &self.regions {
            if seen.insert(region.code, ()).is_some() {
                problems.push(format!("region {} is configured twice", region.code));
            }
            let at = format!("regions[code = {}]", region.code);
            if let Some(name) = &region.time_zone {
                if name.parse::<chrono_tz::Tz>().is_err() {
                    problems.push(format!(
                        "{at}.time_zone: {name:?} is not an IANA time zone (e.g. \"Europe/Moscow\", \"Asia/Yekaterinburg\")"
                    ));
                }
            }
            if let Some(support) = &region.support {
                problems.extend(
                    support
                        .validate(&format!("{at}.support"))
                        .err()
                        .map(message),
                );
            }
        }
        let service = self.support.service();
        if service != SupportContacts::default() {
            problems.extend(service.validate("support").err().map(message));
        }
        for (school, contacts) in &self.support.schools {
            if uuid::Uuid::parse_str(school).is_err() {
                problems.push(format!(
                    "support.schools.{school:?}: a school is named by its id (a UUID)"
                ));
            }
            problems.extend(
                contacts
                    .validate(&format!("support.schools.{school:?}"))
                    .err()
                    .map(message),
            );
        }
        let mut ids = BTreeMap::new();
        for provider in &self.providers {
            if ids.insert(provider.id.clone(), ()).is_some() {
                problems.push(format!("provider {} is configured twice", provider.id));
            }
            // Profile-specific fields are parsed, and their errors named, at
            // startup by `federation::ProviderSettings::parse`.
        }
        problems
    }
}

/// A problem's own words, without the error's "configuration: " prefix.
pub(crate) fn message(error: ConfigError) -> String {
    match error {
        ConfigError::Invalid(message) => message,
        other => other.to_string(),
    }
}
