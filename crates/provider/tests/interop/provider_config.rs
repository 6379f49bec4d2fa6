use esia_link_provider::{Provider, ProviderConfig};

use crate::fixture::*;

fn load(toml_text: &str) -> Result<Provider, String> {
    let config: ProviderConfig = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    Provider::from_config(&config, &dir(), t0()).map_err(|e| e.to_string())
}

#[test]
fn configuration_refusals() {
    let good = config_toml();
    let cases = [
        (
            good.replace(
                "issuer = \"https://id.example\"",
                "issuer = \"https://id.example/\"",
            ),
            "must not end with '/'",
        ),
        (
            good.replace(
                "issuer = \"https://id.example\"",
                "issuer = \"http://id.example\"",
            ),
            "must be https",
        ),
        (
            good.replace("[[signing_keys]]\npem_file = \"keys/rs256-a.pem\"\n", ""),
            "an RS256 (RSA) key is required",
        ),
        (
            good.replace("[[signing_keys]]\npem_file = \"keys/es256-a.pem\"\n", "")
                .replace(
                    "access_token_audience",
                    "access_token_alg = \"RS256\"\naccess_token_audience",
                ),
            "client jwt: id_token_signed_response_alg ES256 has no key",
        ),
        (
            good.replace("[[signing_keys]]\npem_file = \"keys/es256-a.pem\"\n", ""),
            "access_token_alg is ES256",
        ),
        (
            good.replace("interop-subject-key-0123456789-abcdefghij", "short"),
            "at least 32 bytes",
        ),
        (
            good.replace(
                "[[clients]]\nid = \"web\"",
                "[[clients]]\nid = \"web\"\nsecret = \"x\"",
            ),
            "unknown field `secret`",
        ),
    ];
    for (text, expected) in cases {
        let err = load(&text).unwrap_err();
        assert!(err.contains(expected), "expected {expected:?}: {err}");
    }
    assert!(load(&good).is_ok());
}

#[test]
fn the_demo_configuration_loads_and_is_unfit_for_production() {
    let provider = load(&config_toml()).unwrap();
    assert!(provider.production_problems().is_empty());

    let demo_dir = dir().join("../demo");
    let text = std::fs::read_to_string(demo_dir.join("provider.toml")).unwrap();
    let config: ProviderConfig = toml::from_str(&text).unwrap();
    let demo = Provider::from_config(&config, &demo_dir, t0()).unwrap();
    let problems = demo.production_problems();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems
            .iter()
            .filter(|p| p.contains("published demo key"))
            .count()
            == 3,
        "{problems:?}"
    );

    // The demo diary app's documented secret works, through the provider's
    // own entry point.
    let basic = format!(
        "Basic {}",
        crate::grants::base64_basic("demo-diary", "demo-diary-app-secret")
    );
    let params = esia_link_provider::params::Params::parse("grant_type=authorization_code&code=x");
    let outcome = demo
        .authenticate_client(Some(&basic), &params, "/oauth2/token", t0())
        .unwrap();
    assert!(matches!(
        outcome,
        esia_link_provider::client_auth::ClientAuthentication::Authenticated(c) if c.id == "demo-diary"
    ));
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let config: ProviderConfig = toml::from_str(&config_toml()).unwrap();
    let printed = format!("{config:?} {:?}", load(&config_toml()).unwrap());
    assert!(!printed.contains("interop-subject-key"), "{printed}");
    assert!(!printed.contains("BEGIN"), "{printed}");
}
