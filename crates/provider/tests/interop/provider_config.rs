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
fn demo_keys_make_the_configuration_unfit_for_production() {
    let provider = load(&config_toml()).unwrap();
    assert!(provider.production_problems().is_empty());
    let demo = config_toml()
        .replace("keys/rs256-a.pem", "../demo/op-rs256.pem")
        .replace("keys/es256-a.pem", "../demo/op-es256.pem");
    let problems = load(&demo).unwrap().production_problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("published demo key"));
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let config: ProviderConfig = toml::from_str(&config_toml()).unwrap();
    let printed = format!("{config:?} {:?}", load(&config_toml()).unwrap());
    assert!(!printed.contains("interop-subject-key"), "{printed}");
    assert!(!printed.contains("BEGIN"), "{printed}");
}
