use super::*;

/// The environment of a deployment that set its HMAC key, plus `pairs`.
fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    std::iter::once(("ESIA_LINK__SECURITY__HMAC_KEY", "test-hmac-key-0123456789"))
        .chain(pairs.iter().copied())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_built_in_default_loads_and_is_embedded() {
    let config = Config::load_with_env(None, env(&[])).expect("default config is valid");
    assert_eq!(config.server.listen.port(), 8080);
    assert_eq!(config.ephemeral.backend, EphemeralBackend::Memory);
    assert!(config.database.url.expose().starts_with("sqlite:"));
    assert!(config.server.secure_cookies, "safe by default");
    assert!(config.providers.is_empty(), "providers are per deployment");
    assert_eq!(config.policy.min_tier, Tier::Standard);
}

#[test]
fn the_default_has_no_hmac_key_and_says_how_to_set_one() {
    let err =
        Config::load_with_env(None, Vec::<(String, String)>::new()).expect_err("no key, no start");
    assert!(
        err.to_string().contains("ESIA_LINK__SECURITY__HMAC_KEY"),
        "{err}"
    );
}

#[test]
fn the_production_example_parses_with_its_secrets_from_the_environment() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/production.example.toml");
    let config = Config::load_with_env(Some(&file), env(&[])).expect("example is valid");
    assert!(config.server.secure_cookies);
    assert_eq!(config.ephemeral.backend, EphemeralBackend::Redis);
    let esia = config.provider("esia").expect("esia provider");
    assert!(esia.jwks_url.is_none() && !esia.certificates.is_empty());
    assert_eq!(esia.id_token_algs, vec!["GOST3410_2012_256".to_string()]);
}

#[test]
fn environment_overrides_nested_keys() {
    let config = Config::load_with_env(
        None,
        env(&[
            ("ESIA_LINK__SERVER__LISTEN", "0.0.0.0:9000"),
            ("ESIA_LINK__EPHEMERAL__BACKEND", "redis"),
            ("ESIA_LINK__EPHEMERAL__REDIS_URL", "redis://127.0.0.1:6379"),
            ("ESIA_LINK_TEST_DATABASE_URL", "ignored: not our prefix"),
        ]),
    )
    .expect("overrides apply");
    assert_eq!(config.server.listen.port(), 9000);
    assert_eq!(config.ephemeral.backend, EphemeralBackend::Redis);
}

#[test]
fn unknown_keys_are_rejected_by_name() {
    let err = Config::load_with_env(None, env(&[("ESIA_LINK__SERVER__LISTNE", "x")]))
        .expect_err("typo must fail");
    assert!(err.to_string().contains("listne"), "{err}");

    let dir = std::env::temp_dir().join(format!("esia-link-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[database]\nurl = \"sqlite::memory:\"\npool_size = 3\n",
    )
    .expect("write");
    let err = Config::load_with_env(Some(&file), env(&[])).expect_err("unknown key");
    assert!(err.to_string().contains("pool_size"), "{err}");
}

#[test]
fn secrets_never_print() {
    let config = Config::load_with_env(
        None,
        env(&[("ESIA_LINK__SECURITY__HMAC_KEY", "super-secret-value-123")]),
    )
    .expect("valid");
    let shown = config.to_masked_toml();
    assert!(!shown.contains("super-secret-value-123"));
    assert!(shown.contains("********"));
    assert!(!format!("{config:?}").contains("super-secret-value-123"));
}

#[test]
fn invalid_values_are_explained() {
    let cases = [
        (("ESIA_LINK__POLICY__MIN_TIER", "gold"), "min_tier"),
        (("ESIA_LINK__EPHEMERAL__BACKEND", "redis"), "redis_url"),
        (("ESIA_LINK__SECURITY__HMAC_KEY", "short"), "hmac_key"),
    ];
    for ((key, value), expected) in cases {
        let err = Config::load_with_env(None, env(&[(key, value)])).expect_err(key);
        assert!(err.to_string().contains(expected), "{key}: {err}");
    }
}

fn with_overlay(overlay: &str) -> Result<Config, ConfigError> {
    Config::load_layers(Some(overlay), None, env(&[]))
}

#[test]
fn the_default_names_time_zones_and_support_contacts_that_load() {
    let config = Config::load_with_env(None, env(&[])).expect("valid");
    for region in &config.regions {
        assert!(region.time_zone.is_some(), "region {}", region.code);
        assert!(region.support.is_some(), "region {}", region.code);
    }
    assert_eq!(config.time_zone(Some(29)), chrono_tz::Europe::Moscow);
    assert_eq!(
        config.time_zone(Some(66)),
        DEFAULT_TIME_ZONE,
        "unknown region"
    );
    assert_eq!(config.time_zone(None), chrono_tz::Europe::Moscow);
}

#[test]
fn support_contacts_come_from_the_school_then_the_region_then_the_service() {
    let school = "6f1c1a52-3a56-4d55-9a6c-1d2b0c7e9a10";
    let config = with_overlay(&format!(
        r#"
[support]
phone = "8 800 100-00-00"
[support.schools."{school}"]
email = "help@school9.example.ru"
[[regions]]
code = 29
name_ru = "Архангельская область"
name_en = "Arkhangelsk Oblast"
esia_enabled = true
time_zone = "Europe/Moscow"
support = {{ url = "https://help.arkh.example.ru", hours = "пн–пт 9–18" }}
[[regions]]
code = 66
name_ru = "Свердловская область"
name_en = "Sverdlovsk Oblast"
esia_enabled = true
time_zone = "Asia/Yekaterinburg"
"#
    ))
    .expect("valid");
    let id = uuid::Uuid::parse_str(school).expect("uuid");
    let pick = |school, region| config.support_for(school, region);
    assert_eq!(
        pick(Some(id), Some(29)).and_then(|s| s.email).as_deref(),
        Some("help@school9.example.ru")
    );
    assert_eq!(
        pick(Some(uuid::Uuid::new_v4()), Some(29))
            .and_then(|s| s.url)
            .as_deref(),
        Some("https://help.arkh.example.ru")
    );
    assert_eq!(
        pick(None, Some(66)).and_then(|s| s.phone).as_deref(),
        Some("8 800 100-00-00"),
        "a region without its own falls back to the service's"
    );
    assert_eq!(config.time_zone(Some(66)), chrono_tz::Asia::Yekaterinburg);
}

#[test]
fn bad_time_zones_and_support_contacts_are_named_at_load() {
    let region = |extra: &str| {
        format!(
            "[[regions]]\ncode = 66\nname_ru = \"С\"\nname_en = \"S\"\nesia_enabled = true\n{extra}\n"
        )
    };
    let cases = [
        (
            region("time_zone = \"Europe/Mosow\""),
            "regions[code = 66].time_zone",
        ),
        (
            region("support = { email = \"help at example.ru\" }"),
            "regions[code = 66].support.email",
        ),
        (
            region("support = { url = \"http://help.example.ru\" }"),
            "regions[code = 66].support.url",
        ),
        (
            region("support = { phone = \"call us\" }"),
            "regions[code = 66].support.phone",
        ),
        (
            region("support = { hours = \"9-18\" }"),
            "regions[code = 66].support",
        ),
        (
            "[support]\nemail = \"nobody\"\n".to_string(),
            "support.email",
        ),
        (
            "[support.schools.arkh1]\nphone = \"8 800 100-00-00\"\n".to_string(),
            "support.schools",
        ),
    ];
    for (overlay, expected) in cases {
        let err = with_overlay(&overlay).expect_err(&overlay);
        assert!(err.to_string().contains(expected), "{overlay}: {err}");
    }
    let ok = region("support = { url = \"tel:+78001000000\" }");
    assert!(with_overlay(&ok).is_ok(), "tel: links are fine");
}

#[test]
fn the_apps_provider_keys_never_print_and_clients_need_apps() {
    let overlay = r#"
[security]
hmac_key = "a-test-hmac-key-of-enough-length"

[apps]
subject_key = "the-pairwise-subject-key-secret-value"

[[apps.signing_keys]]
pem = "-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----"

[[clients]]
id = "diary-web"
kind = "public"
redirect_uris = ["https://diary.example/callback"]
scopes = ["openid"]
name_ru = "Дневник"
name_en = "Diary"
"#;
    let config = with_overlay(overlay).expect("valid");
    let shown = config.to_masked_toml();
    assert!(
        !shown.contains("the-pairwise-subject-key-secret-value"),
        "{shown}"
    );
    assert!(!shown.contains("SECRETKEYMATERIAL"), "{shown}");
    assert!(shown.contains("diary-web"), "{shown}");
    let debug = format!("{config:?}");
    assert!(!debug.contains("SECRETKEYMATERIAL") && !debug.contains("the-pairwise-subject"));
    // The issuer defaults to the public URL; [[clients]] join the provider's.
    let apps = config.apps_provider().expect("[apps]");
    assert_eq!(apps.issuer, config.server.public_url.trim_end_matches('/'));
    assert_eq!(apps.clients.len(), 1);

    let clients_only = format!(
        "[security]\nhmac_key = \"a-test-hmac-key-of-enough-length\"\n[[clients]]{}",
        overlay.split("[[clients]]").nth(1).unwrap_or_default()
    );
    let err = with_overlay(&clients_only).expect_err("clients without [apps]");
    assert!(err.to_string().contains("[apps]"), "{err}");
}
