//! The layers merged (built-in default, overlay, file, environment), and a
//! look at them that never refuses: what `config show` prints, with every
//! problem listed, even when the service would not start.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::check::message;
use crate::{
    AccessConfig, ActivationConfig, Config, ConfigError, DatabaseConfig, EphemeralConfig,
    FamilyConfig, LogConfig, PolicyConfig, ProviderConfig, RegionConfig, SecurityConfig,
    ServerConfig, SupportConfig, DEFAULT_TOML,
};

/// The environment variables that are ours (`ESIA_LINK__...`).
pub(crate) fn ours(
    env: impl IntoIterator<Item = (String, String)>,
) -> config_rs::Map<String, String> {
    env.into_iter()
        .filter(|(key, _)| key.starts_with("ESIA_LINK__"))
        .collect()
}

/// The layers, merged but not yet read into a [`Config`].
pub(crate) fn merge(
    overlay: Option<&str>,
    file: Option<&Path>,
    env: config_rs::Map<String, String>,
) -> Result<config_rs::Config, ConfigError> {
    let mut builder = config_rs::Config::builder().add_source(config_rs::File::from_str(
        DEFAULT_TOML,
        config_rs::FileFormat::Toml,
    ));
    if let Some(overlay) = overlay {
        builder = builder.add_source(config_rs::File::from_str(
            overlay,
            config_rs::FileFormat::Toml,
        ));
    }
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigError::Invalid(format!(
                "configuration file {} does not exist",
                path.display()
            )));
        }
        builder = builder.add_source(config_rs::File::from(path).required(true));
    }
    builder = builder.add_source(
        config_rs::Environment::with_prefix("ESIA_LINK")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("server.allowed_return_origins")
            .with_list_parse_key("ephemeral.sentinel.sentinels")
            .source(Some(env)),
    );
    builder.build().map_err(|source| ConfigError::File {
        path: file
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(built-in default)".into()),
        source: Box::new(source),
    })
}

/// The effective configuration and everything wrong with it.
pub struct Inspection {
    /// TOML, secrets masked: the configuration as the service reads it, or,
    /// when some of it cannot be read, the layers as merged.
    pub shown: String,
    /// What is missing or invalid, each naming its key; empty when the
    /// configuration is complete.
    pub problems: Vec<String>,
    /// The configuration, when it reads as a whole (for checks beyond this
    /// crate: providers, production rules).
    pub config: Option<Config>,
}

impl Config {
    /// The configuration `serve` would load from these layers, without
    /// refusing: every problem is listed instead.
    pub fn inspect(file: Option<&Path>) -> Inspection {
        Self::inspect_layers(None, file, std::env::vars())
    }

    /// As [`Config::inspect`], with the overlay and environment given.
    pub fn inspect_layers(
        overlay: Option<&str>,
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Inspection {
        let env = ours(env);
        let mut problems = Vec::new();
        let merged = match merge(overlay, file, env.clone()) {
            Ok(merged) => merged,
            Err(error) => {
                // Shown without the file that could not be read.
                problems.push(message(error));
                match merge(overlay, None, env) {
                    Ok(merged) => merged,
                    Err(error) => {
                        problems.push(message(error));
                        return Inspection {
                            shown: String::new(),
                            problems,
                            config: None,
                        };
                    }
                }
            }
        };
        match merged.clone().try_deserialize::<Config>() {
            Ok(config) => {
                problems.extend(config.problems());
                Inspection {
                    shown: config.to_masked_toml(),
                    problems,
                    config: Some(config),
                }
            }
            Err(whole) => {
                let raw: toml::Table = merged.clone().try_deserialize().unwrap_or_default();
                let broken: Vec<(String, String)> = raw
                    .keys()
                    .filter_map(|name| {
                        check_section(&merged, name)
                            .err()
                            .map(|why| (name.clone(), why))
                    })
                    .collect();
                if broken.is_empty() {
                    problems.push(whole.to_string());
                }
                problems.extend(broken.iter().map(|(_, why)| why.clone()));
                // The cross-field rules, on the rest: the unreadable sections
                // as the built-in default has them, and their problems not
                // repeated.
                if let Some(rest) = with_default_sections(&raw, &broken) {
                    problems.extend(rest.problems().into_iter().filter(|problem| {
                        !broken
                            .iter()
                            .any(|(name, _)| problem.starts_with(name.as_str()))
                    }));
                }
                let mut shown = raw;
                mask(&mut shown, "");
                Inspection {
                    shown: format!(
                        "# Not every value could be read (see the problems); the layers as merged:\n{}",
                        toml::to_string_pretty(&shown).unwrap_or_default()
                    ),
                    problems,
                    config: None,
                }
            }
        }
    }
}

/// Reads one top-level section on its own, for an error that names it.
fn check_section(merged: &config_rs::Config, name: &str) -> Result<(), String> {
    fn read<T: DeserializeOwned>(merged: &config_rs::Config, name: &str) -> Result<(), String> {
        merged
            .get::<T>(name)
            .map(|_| ())
            .map_err(|error| format!("[{name}]: {error}"))
    }
    match name {
        "server" => read::<ServerConfig>(merged, name),
        "database" => read::<DatabaseConfig>(merged, name),
        "ephemeral" => read::<EphemeralConfig>(merged, name),
        "security" => read::<SecurityConfig>(merged, name),
        "policy" => read::<PolicyConfig>(merged, name),
        "regions" => read::<Vec<RegionConfig>>(merged, name),
        "providers" => read::<Vec<ProviderConfig>>(merged, name),
        "log" => read::<LogConfig>(merged, name),
        "activation" => read::<ActivationConfig>(merged, name),
        "notify" => read::<notify::NotifySettings>(merged, name),
        "support" => read::<SupportConfig>(merged, name),
        "access" => read::<AccessConfig>(merged, name),
        "family" => read::<FamilyConfig>(merged, name),
        other => Err(format!("[{other}]: unknown section")),
    }
}

/// The merged layers with each unreadable section replaced by the built-in
/// default's (or left out), read as a [`Config`].
fn with_default_sections(raw: &toml::Table, broken: &[(String, String)]) -> Option<Config> {
    let defaults: toml::Table = toml::from_str(DEFAULT_TOML).ok()?;
    let mut table = raw.clone();
    for (name, _) in broken {
        match defaults.get(name) {
            Some(value) => table.insert(name.clone(), value.clone()),
            None => table.remove(name),
        };
    }
    toml::Value::Table(table).try_into().ok()
}

/// Whether the key at `path` (dotted, arrays left out) holds a secret:
/// the fields that are [`crate::Secret`] in [`Config`].
fn is_secret(path: &str) -> bool {
    const SECRET_NAMES: [&str; 7] = [
        "hmac_key",
        "redis_url",
        "client_secret",
        "key_pem",
        "password",
        "sentinel_password",
        "smtp_url",
    ];
    let name = path.rsplit('.').next().unwrap_or(path);
    path == "database.url" || SECRET_NAMES.contains(&name)
}

/// Masks every set secret in `table` (found by name: this is the
/// configuration that could not be read into its types).
fn mask(table: &mut toml::Table, at: &str) {
    for (key, value) in table.iter_mut() {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        mask_value(value, &path);
    }
}

fn mask_value(value: &mut toml::Value, path: &str) {
    match value {
        toml::Value::Table(table) => mask(table, path),
        toml::Value::Array(items) => items.iter_mut().for_each(|item| mask_value(item, path)),
        toml::Value::String(text) if is_secret(path) && !text.is_empty() => {
            *text = "********".into();
        }
        other if is_secret(path) => *other = toml::Value::String("********".into()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect(overlay: &str, env: &[(&str, &str)]) -> Inspection {
        Config::inspect_layers(
            Some(overlay),
            None,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn an_incomplete_configuration_is_shown_with_all_its_problems() {
        let seen = inspect(
            "[family]\ninvitation_days = 0\n",
            &[("ESIA_LINK__EPHEMERAL__BACKEND", "redis")],
        );
        assert!(seen.config.is_some());
        assert!(seen.shown.contains("[server]"), "{}", seen.shown);
        for expected in [
            "security.hmac_key is not set",
            "ephemeral.redis_url",
            "family.invitation_days",
        ] {
            assert!(
                seen.problems.iter().any(|p| p.contains(expected)),
                "{expected}: {:?}",
                seen.problems
            );
        }
    }

    #[test]
    fn unreadable_sections_are_named_and_the_rest_still_checked() {
        let seen = inspect(
            "[server]\nlistne = \"x\"\n[database]\nurl = \"postgres://esia:db-secret@db/esia\"\n",
            &[
                ("ESIA_LINK__POLICY__MIN_TIER", "gold"),
                ("ESIA_LINK__SECURITY__HMAC_KEY", "short"),
            ],
        );
        assert!(seen.config.is_none());
        let named = |part: &str| seen.problems.iter().any(|p| p.contains(part));
        assert!(named("[server]") && named("listne"), "{:?}", seen.problems);
        assert!(named("[policy]") && named("gold"), "{:?}", seen.problems);
        assert!(named("hmac_key must be at least 16"), "{:?}", seen.problems);
        assert!(
            !seen.problems.iter().any(|p| p.starts_with("server.")),
            "no second problem for the unreadable section: {:?}",
            seen.problems
        );
        assert!(seen.shown.contains("listne"), "{}", seen.shown);
        assert!(!seen.shown.contains("db-secret"), "{}", seen.shown);
        assert!(!seen.shown.contains("short"), "{}", seen.shown);
    }

    #[test]
    fn a_missing_file_is_a_problem_and_the_rest_is_shown() {
        let seen = Config::inspect_layers(
            None,
            Some(Path::new("/nonexistent/esia-link.toml")),
            [(
                "ESIA_LINK__SECURITY__HMAC_KEY".to_string(),
                "test-hmac-key-0123456789".to_string(),
            )],
        );
        assert_eq!(seen.problems.len(), 1, "{:?}", seen.problems);
        assert!(seen.problems[0].contains("does not exist"));
        assert!(seen.shown.contains("[server]"));
    }

    /// The name-based masking covers every secret the typed rendering
    /// masks: a configuration with each secret set is rendered by type,
    /// and every masked key must be one `is_secret` knows.
    #[test]
    fn masking_by_name_knows_every_secret() {
        let overlay = r#"
[ephemeral.sentinel]
sentinels = ["redis://127.0.0.1:26379"]
master_name = "m"
password = "p"
sentinel_password = "sp"
[ephemeral]
redis_url = "redis://x"
[notify]
smtp_url = "smtp://u:p@host"
[[providers]]
id = "x"
profile = "oidc"
display_name_ru = "x"
display_name_en = "x"
issuer = "https://idp.example"
client_id = "c"
scopes = ["openid"]
client_secret = "s"
signer = { kind = "rsa_key_pem", key_pem = "k" }
"#;
        let seen = inspect(overlay, &[("ESIA_LINK__SECURITY__HMAC_KEY", "h")]);
        let config = seen.config.expect("reads as a whole");
        let typed: toml::Table = toml::from_str(&config.to_masked_toml()).expect("toml");
        fn masked_paths(value: &toml::Value, path: &str, found: &mut Vec<String>) {
            match value {
                toml::Value::Table(table) => {
                    for (key, value) in table {
                        let path = if path.is_empty() {
                            key.clone()
                        } else {
                            format!("{path}.{key}")
                        };
                        masked_paths(value, &path, found);
                    }
                }
                toml::Value::Array(items) => {
                    items.iter().for_each(|v| masked_paths(v, path, found));
                }
                toml::Value::String(text) if text == "********" => found.push(path.to_string()),
                _ => {}
            }
        }
        let mut found = Vec::new();
        masked_paths(&toml::Value::Table(typed), "", &mut found);
        assert_eq!(found.len(), 8, "{found:?}");
        for path in found {
            assert!(is_secret(&path), "{path} is masked by type, not by name");
        }
    }
}
