use std::path::Path;

use super::*;
use crate::testutil::{client_jwk_toml, secret_hash, CLIENT_ES256_PEM};

fn load(toml_text: &str) -> crate::errors::Result<Clients> {
    #[derive(serde::Deserialize)]
    struct File {
        clients: Vec<ClientConfig>,
    }
    let file: File =
        toml::from_str(toml_text).map_err(|e| crate::errors::Error::Config(e.to_string()))?;
    Clients::load(&file.clients, Path::new("."))
}

fn public_app(extra: &str) -> String {
    format!(
        r#"[[clients]]
id = "mobile"
kind = "public"
redirect_uris = ["ru.school.diary:/oauth2", "http://127.0.0.1/cb"]
scopes = ["openid", "profile", "diary", "offline_access"]
name_ru = "Дневник"
name_en = "Diary"
{extra}"#
    )
}

#[test]
fn a_valid_configuration_loads_with_its_defaults() {
    let hash = secret_hash("s3cret");
    let jwk = client_jwk_toml(CLIENT_ES256_PEM);
    let clients = load(&format!(
        r#"{}
[[clients]]
id = "web"
kind = "confidential"
secret_hash = "{hash}"
redirect_uris = ["https://diary.example/callback"]
post_logout_redirect_uris = ["https://diary.example/"]
scopes = ["openid", "profile"]
backchannel_logout_uri = "https://diary.example/backchannel"
name_ru = "Дневник (сайт)"
name_en = "Diary (web)"
subject = "public"
id_token_signed_response_alg = "ES256"

[[clients]]
id = "backend"
kind = "confidential"
jwks = {{ keys = [{jwk}] }}
resource_server = true
name_ru = "Сервер дневника"
name_en = "Diary back end"
"#,
        public_app("")
    ))
    .unwrap();
    assert_eq!(clients.len(), 3);
    let mobile = clients.get("mobile").unwrap();
    assert_eq!(mobile.auth_method, AuthMethod::None);
    assert_eq!(mobile.subject, SubjectType::Pairwise);
    assert_eq!(mobile.id_token_alg, SigningAlg::Rs256);
    let web = clients.get("web").unwrap();
    assert_eq!(web.auth_method, AuthMethod::ClientSecretBasic);
    assert_eq!(web.subject, SubjectType::Public);
    assert_eq!(web.id_token_alg, SigningAlg::Es256);
    assert_eq!(web.name("en"), "Diary (web)");
    assert_eq!(web.name("ru"), "Дневник (сайт)");
    let backend = clients.get("backend").unwrap();
    assert_eq!(backend.auth_method, AuthMethod::PrivateKeyJwt);
    assert!(matches!(&backend.credential, ClientCredential::Jwks(keys) if keys.len() == 1));
}

#[test]
fn refusals_name_the_client_and_the_field() {
    let hash = secret_hash("x");
    let cases: Vec<(String, &str)> = vec![
        (
            public_app(&format!("secret_hash = \"{hash}\"")),
            "(mobile): secret_hash/jwks are set",
        ),
        (
            public_app("token_endpoint_auth_method = \"client_secret_post\""),
            "(mobile): token_endpoint_auth_method",
        ),
        (public_app("color = \"red\""), "unknown field `color`"),
        (
            public_app("").replace("\"http://127.0.0.1/cb\"", "\"http://localhost/cb\""),
            "(mobile): redirect_uris entry http://localhost/cb uses localhost",
        ),
        (
            public_app("").replace("\"http://127.0.0.1/cb\"", "\"https://app.example/cb#x\""),
            "redirect_uris entry https://app.example/cb#x has a fragment",
        ),
        (
            public_app("").replace("\"http://127.0.0.1/cb\"", "\"http://app.example/cb\""),
            "plain http is allowed only on the loopback address",
        ),
        (
            public_app("").replace("ru.school.diary:/oauth2", "diary:/oauth2"),
            "reverse-domain private-use scheme",
        ),
        (
            public_app("").replace("\"http://127.0.0.1/cb\"", "\"http://127.0.0.1\""),
            "write it as http://127.0.0.1/",
        ),
        (
            public_app("").replace("\"openid\", ", ""),
            "(mobile): scopes must include openid",
        ),
        (
            public_app("").replace("\"diary\"", "\"email\""),
            "(mobile): scopes has email",
        ),
        (
            public_app("").replace("\"Diary\"", "\" \""),
            "(mobile): name_en is empty",
        ),
        (
            public_app("backchannel_logout_uri = \"http://app.example/bc\""),
            "backchannel_logout_uri must be https",
        ),
        (
            public_app("resource_server = true"),
            "resource_server needs a confidential client",
        ),
        (
            format!("{}{}", public_app(""), public_app("")),
            "id is used by another client",
        ),
        (
            public_app("").replace("id = \"mobile\"", "id = \"mobile app\""),
            "id must be 1–64 characters",
        ),
        (
            public_app("").replace("kind = \"public\"", "kind = \"confidential\""),
            "(mobile): secret_hash/jwks/jwks_file need exactly one",
        ),
        (
            public_app("secret_hash = \"plain-text-secret\"")
                .replace("kind = \"public\"", "kind = \"confidential\""),
            "secret_hash is not a PHC string",
        ),
        (
            public_app("jwks = '{\"keys\": [{\"kty\": \"oct\", \"k\": \"AAAA\"}]}'")
                .replace("kind = \"public\"", "kind = \"confidential\""),
            "jwks.keys[0] JWK kty oct is not RSA or EC",
        ),
        (
            public_app(&format!(
                "secret_hash = \"{hash}\"\ntoken_endpoint_auth_method = \"private_key_jwt\""
            ))
            .replace("kind = \"public\"", "kind = \"confidential\""),
            "private_key_jwt does not fit",
        ),
    ];
    for (text, expected) in cases {
        let err = load(&text).unwrap_err().to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    }
}

#[test]
fn redirect_uri_matching() {
    let registered = [
        "https://diary.example/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb?app=1",
        "ru.school.diary:/oauth2",
    ];
    let uris: Vec<RedirectUri> = registered
        .iter()
        .map(|r| RedirectUri::parse(r).unwrap())
        .collect();
    let matches = |presented: &str| uris.iter().any(|u| u.matches(presented));
    let cases = [
        ("https://diary.example/cb", true),
        ("https://diary.example/cb/", false),
        ("https://diary.example/cb?x=1", false),
        ("https://diary.example:8443/cb", false),
        ("https://DIARY.example/cb", false),
        ("https://diary.example/cb#frag", false),
        ("https://diary.example.evil/cb", false),
        // loopback: any port, nothing else may differ
        ("http://127.0.0.1/cb", true),
        ("http://127.0.0.1:51004/cb", true),
        ("http://127.0.0.1:1/cb", true),
        ("http://127.0.0.1:51004/cb2", false),
        ("http://127.0.0.1:51004/cb?x=1", false),
        ("http://127.0.0.1:51004/cb#x", false),
        ("http://user@127.0.0.1:51004/cb", false),
        ("https://127.0.0.1:51004/cb", false),
        ("http://localhost:51004/cb", false),
        ("http://127.0.0.2:51004/cb", false),
        ("http://[::1]:40000/cb?app=1", true),
        ("http://[::1]/cb?app=1", true),
        ("http://[::1]:40000/cb", false),
        ("http://127.0.0.1:40000/cb?app=1", false),
        // private-use scheme: exact
        ("ru.school.diary:/oauth2", true),
        ("ru.school.diary:/oauth2/", false),
        ("ru.school.diary://oauth2", false),
    ];
    for (presented, expected) in cases {
        assert_eq!(matches(presented), expected, "{presented}");
    }
}

#[test]
fn redirect_uri_resolution_when_omitted() {
    let clients = load(&public_app("")).unwrap();
    let mobile = clients.get("mobile").unwrap();
    assert_eq!(
        mobile.resolve_redirect_uri(None),
        None,
        "two registered: must be given"
    );
    assert_eq!(
        mobile
            .resolve_redirect_uri(Some("http://127.0.0.1:9000/cb"))
            .as_deref(),
        Some("http://127.0.0.1:9000/cb"),
        "the presented loopback URI (with its port) is the one to redirect to"
    );
    let single = load(&public_app("").replace(", \"http://127.0.0.1/cb\"", "")).unwrap();
    assert_eq!(
        single
            .get("mobile")
            .unwrap()
            .resolve_redirect_uri(None)
            .as_deref(),
        Some("ru.school.diary:/oauth2")
    );
}
