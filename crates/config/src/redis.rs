//! `[ephemeral.sentinel]`: a Redis primary found through Redis Sentinel, as
//! production runs it (a primary, replicas and three or more sentinels).
//! The service asks the sentinels for the current primary at startup and
//! again whenever the primary stops answering or answers as a replica.

use serde::{Deserialize, Serialize};

use crate::Secret;

/// The sentinels and how to log in to them and to the Redis nodes they
/// name. Credentials live in their own keys, not in the URLs, so that
/// `config show` can show the addresses and mask the passwords.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SentinelConfig {
    /// `redis://host:26379` for each sentinel; asked in this order, and any
    /// one that answers is enough. List all of them.
    pub sentinels: Vec<String>,
    /// The name the sentinels monitor the primary under
    /// (`sentinel monitor <master_name> ...` in sentinel.conf).
    pub master_name: String,
    /// ACL user on the Redis nodes (primary and replicas).
    #[serde(default)]
    pub username: Option<String>,
    /// Password on the Redis nodes (`requirepass` / the ACL user's).
    #[serde(default)]
    pub password: Option<Secret>,
    /// The Redis database number.
    #[serde(default)]
    pub db: i64,
    /// ACL user on the sentinels, when they require one.
    #[serde(default)]
    pub sentinel_username: Option<String>,
    /// Password on the sentinels (`requirepass` in sentinel.conf).
    #[serde(default)]
    pub sentinel_password: Option<Secret>,
}

impl SentinelConfig {
    /// What is wrong with these settings, each naming its key under `at`.
    pub(crate) fn problems(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if self.sentinels.is_empty() {
            problems.push(format!(
                "{at}.sentinels: list the sentinels, e.g. [\"redis://10.0.0.1:26379\", \"redis://10.0.0.2:26379\", \"redis://10.0.0.3:26379\"]"
            ));
        }
        for (index, address) in self.sentinels.iter().enumerate() {
            if let Err(why) = check_sentinel_url(address) {
                problems.push(format!("{at}.sentinels[{index}]: {why}"));
            }
        }
        if self.master_name.trim().is_empty() {
            problems.push(format!(
                "{at}.master_name: the name the sentinels monitor the primary under (sentinel monitor <name> ...)"
            ));
        }
        if self.db < 0 {
            problems.push(format!("{at}.db: a database number is 0 or more"));
        }
        problems
    }
}

/// A sentinel address: `redis://host:port`, nothing else.
fn check_sentinel_url(address: &str) -> Result<(), String> {
    let parsed = url::Url::parse(address)
        .map_err(|_| format!("{address:?} is not a URL (redis://host:26379)"))?;
    if parsed.scheme() != "redis" {
        return Err(format!("{address:?}: only redis://host:port"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{address:?} names no host"));
    }
    if parsed.port().is_none() {
        return Err(format!(
            "{address:?} names no port (sentinels usually listen on 26379)"
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(
            "credentials belong in sentinel_username / sentinel_password, not in the URL"
                .to_string(),
        );
    }
    if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
        return Err(format!(
            "{address:?}: a sentinel has no database; set the database with db"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentinel(sentinels: &[&str], master_name: &str) -> SentinelConfig {
        SentinelConfig {
            sentinels: sentinels.iter().map(|s| s.to_string()).collect(),
            master_name: master_name.to_string(),
            username: None,
            password: None,
            db: 0,
            sentinel_username: None,
            sentinel_password: None,
        }
    }

    #[test]
    fn sentinels_come_from_the_environment_as_a_list() {
        let env = [
            ("ESIA_LINK__SECURITY__HMAC_KEY", "test-hmac-key-0123456789"),
            ("ESIA_LINK__EPHEMERAL__BACKEND", "redis"),
            (
                "ESIA_LINK__EPHEMERAL__SENTINEL__SENTINELS",
                "redis://10.0.0.1:26379,redis://10.0.0.2:26379",
            ),
            ("ESIA_LINK__EPHEMERAL__SENTINEL__MASTER_NAME", "esia-link"),
            ("ESIA_LINK__EPHEMERAL__SENTINEL__PASSWORD", "node-secret"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let config = crate::Config::load_with_env(None, env.clone()).expect("valid");
        let sentinel = config.ephemeral.sentinel.as_ref().expect("sentinel");
        assert_eq!(sentinel.sentinels.len(), 2);
        assert_eq!(sentinel.master_name, "esia-link");
        assert_eq!(
            sentinel.password.as_ref().map(Secret::expose),
            Some("node-secret")
        );
        assert!(!config.to_masked_toml().contains("node-secret"));

        let both = env.into_iter().chain([(
            "ESIA_LINK__EPHEMERAL__REDIS_URL".to_string(),
            "redis://10.0.0.9:6379".to_string(),
        )]);
        let err = crate::Config::load_with_env(None, both).expect_err("one or the other");
        assert!(err.to_string().contains("not both"), "{err}");
    }

    #[test]
    fn sentinel_addresses_are_checked_one_by_one() {
        let good = sentinel(
            &[
                "redis://10.0.0.1:26379",
                "redis://sentinel-2.internal:26379",
            ],
            "esia-link",
        );
        assert!(good.problems("ephemeral.sentinel").is_empty());

        let cases = [
            (sentinel(&[], "esia-link"), "ephemeral.sentinel.sentinels:"),
            (
                sentinel(&["10.0.0.1:26379"], "esia-link"),
                "sentinels[0]: \"10.0.0.1:26379\"",
            ),
            (sentinel(&["redis://10.0.0.1"], "esia-link"), "no port"),
            (
                sentinel(&["redis://:pw@10.0.0.1:26379"], "esia-link"),
                "sentinel_password",
            ),
            (sentinel(&["rediss://10.0.0.1:26379"], "esia-link"), "only"),
            (sentinel(&["redis://10.0.0.1:26379/2"], "esia-link"), "db"),
            (sentinel(&["redis://10.0.0.1:26379"], " "), "master_name"),
        ];
        for (config, expected) in cases {
            let problems = config.problems("ephemeral.sentinel");
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{:?}: {problems:?}",
                config.sentinels
            );
        }
        let shown = format!("{:?}", {
            let mut with_password = good.clone();
            with_password.sentinel_password = Some(Secret::new("sentinel-secret"));
            with_password
        });
        assert!(!shown.contains("sentinel-secret"));
    }
}
