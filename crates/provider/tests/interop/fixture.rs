use std::path::{Path, PathBuf};

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params as ArgonParams, Version};
use chrono::{DateTime, TimeZone, Utc};
use esia_link_provider::auth_context::{Acr, Amr, SignIn};
use esia_link_provider::authorize::parse_authorization_request;
use esia_link_provider::client_auth::{authenticate_with, Audiences, SecretCache};
use esia_link_provider::code::{issue_code, redeem, CodeExchange, CodeUse};
use esia_link_provider::keys::SigningKey;
use esia_link_provider::params::Params;
use esia_link_provider::refresh::{start_family, RefreshFamily};
use esia_link_provider::token_request::{parse_token_request, TokenRequest};
use esia_link_provider::tokens::{Grant, IssuedTokens, PersonClaims, PersonName};
use esia_link_provider::{Provider, ProviderConfig};

pub const ISSUER: &str = "https://id.example";
pub const WEB_SECRET: &str = "web-secret-9f8e7d6c5b4a39281706";
// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0).unwrap()
}

pub fn cheap_hash(secret: &str) -> String {
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        ArgonParams::new(64, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(b"interop-test-salt").unwrap();
    argon
        .hash_password(secret.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

/// A client key's public JWK as JSON text.
pub fn public_jwk(pem_file: &str) -> String {
    let key = SigningKey::from_pem_file(&dir().join(pem_file)).unwrap();
    let mut members = key.verifying_key().jwk_members();
    members.insert("kid".into(), key.kid().into());
    serde_json::Value::Object(members).to_string()
}

pub fn config_toml() -> String {
    format!(
        r#"
issuer = "{ISSUER}"
subject_key = "interop-subject-key-0123456789-abcdefghij"
access_token_audience = "https://diary.example/api"

[[signing_keys]]
pem_file = "keys/rs256-a.pem"

[[signing_keys]]
pem_file = "keys/es256-a.pem"

[[clients]]
id = "mobile"
kind = "public"
redirect_uris = ["ru.school.diary:/oauth2", "http://127.0.0.1/cb"]
post_logout_redirect_uris = ["ru.school.diary:/bye"]
scopes = ["openid", "profile", "diary", "offline_access"]
backchannel_logout_uri = "http://127.0.0.1:9/bc"
name_ru = "Дневник"
name_en = "Diary"

[[clients]]
id = "web"
kind = "confidential"
secret_hash = "{web_hash}"
redirect_uris = ["https://diary.example/callback"]
post_logout_redirect_uris = ["https://diary.example/bye"]
scopes = ["openid", "profile", "diary"]
backchannel_logout_uri = "https://diary.example/backchannel"
name_ru = "Дневник (сайт)"
name_en = "Diary (web)"
subject = "public"

[[clients]]
id = "jwt"
kind = "confidential"
jwks = '{{"keys": [{rsa}, {ec}]}}'
redirect_uris = ["https://jwt.example/cb"]
scopes = ["openid", "offline_access"]
id_token_signed_response_alg = "ES256"
name_ru = "Школьный портал"
name_en = "School portal"

[[clients]]
id = "backend"
kind = "confidential"
secret_hash = "{web_hash}"
resource_server = true
name_ru = "Сервер дневника"
name_en = "Diary back end"
"#,
        web_hash = cheap_hash(WEB_SECRET),
        rsa = public_jwk("keys/pkcs1-rs256.pem"),
        ec = public_jwk("keys/client-es256.pem"),
    )
}

pub fn provider() -> Provider {
    let config: ProviderConfig = toml::from_str(&config_toml()).unwrap();
    Provider::from_config(&config, &dir(), t0()).unwrap()
}

pub fn person() -> PersonClaims {
    PersonClaims {
        name: Some(PersonName {
            family_name: "Иванова".into(),
            given_name: "Мария".into(),
            middle_name: Some("Петровна".into()),
        }),
        diary: Some(serde_json::json!({
            "role": "parent",
            "region": 29,
            "pupils": [{"id": "p-1", "school": "s-7", "basis": "parent", "services": ["diary", "meals"]}]
        })),
    }
}

pub fn sign_in(at: DateTime<Utc>) -> SignIn {
    SignIn {
        account_id: "acc-42".into(),
        session_id: "sess-9".into(),
        auth_time: at,
        acr: Acr::EsiaVerified,
        amr: vec![Amr::Fed],
    }
}

pub fn audiences(provider: &Provider) -> (String, String) {
    (provider.issuer.clone(), provider.endpoint("/oauth2/token"))
}

/// Everything a successful code grant yields.
pub struct Signed {
    #[allow(dead_code)]
    pub grant: Grant,
    pub tokens: IssuedTokens,
    pub refresh: String,
    pub family: RefreshFamily,
}

/// authorize → code → token endpoint (client authentication, redemption,
/// minting), as the web layer will call them.
pub fn code_flow(
    provider: &Provider,
    query: &str,
    authorization: Option<&str>,
    token_form: &str,
    now: DateTime<Utc>,
) -> Signed {
    let request = parse_authorization_request(query, &provider.clients).unwrap();
    let issued = issue_code(&request, sign_in(now), now).unwrap();
    let location = request.success_location(&issued.code, ISSUER);
    assert!(
        location.contains(&format!("code={}", issued.code)),
        "{location}"
    );

    let form = format!("{token_form}&code={}", issued.code);
    let params = Params::parse(&form);
    let (iss, token_url) = audiences(provider);
    let audiences = Audiences {
        issuer: &iss,
        token_endpoint: &token_url,
        this_endpoint: &token_url,
    };
    let client = authenticate_with(
        &provider.clients,
        authorization,
        &params,
        audiences,
        &SecretCache::new(),
        now,
        |_, _, _| true,
    )
    .unwrap();
    let TokenRequest::AuthorizationCode {
        code,
        redirect_uri,
        code_verifier,
    } = parse_token_request(&params).unwrap()
    else {
        panic!("not a code grant");
    };
    assert_eq!(
        esia_link_provider::code::code_hash(code),
        issued.record.code_hash
    );
    let exchange = CodeExchange {
        client_id: &client.id,
        redirect_uri,
        code_verifier,
    };
    let grant = redeem(&issued.record, CodeUse::FirstUse, &exchange, now).unwrap();
    let (refresh, family) = start_family(&grant, provider.lifetimes.refresh_family(), now).unwrap();
    let tokens = provider
        .issue_tokens(&grant, client, &person(), Some(refresh.clone()), now)
        .unwrap();
    Signed {
        grant,
        tokens,
        refresh,
        family,
    }
}

pub fn mobile_query(nonce: &str) -> String {
    format!(
        "response_type=code&client_id=mobile&redirect_uri=http%3A%2F%2F127.0.0.1%3A53111%2Fcb\
         &scope=openid+profile+diary+offline_access&state=st&nonce={nonce}\
         &code_challenge={CHALLENGE}&code_challenge_method=S256"
    )
}

pub fn mobile_form() -> String {
    format!(
        "grant_type=authorization_code&client_id=mobile&redirect_uri=http%3A%2F%2F127.0.0.1%3A53111%2Fcb&code_verifier={VERIFIER}"
    )
}
