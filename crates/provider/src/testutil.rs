//! Fixtures shared by the unit tests.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::keys::SigningKey;

pub const CLIENT_ES256_PEM: &str = include_str!("../tests/keys/client-es256.pem");
pub const CLIENT_RS256_PEM: &str = include_str!("../tests/keys/client-rs256.pem");

/// A PHC string with tiny argon2 costs, so tests stay fast.
pub fn secret_hash(secret: &str) -> String {
    let params = Params::new(64, 1, 1, None).unwrap();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"esia-link-tests!").unwrap();
    argon
        .hash_password(secret.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

/// The client test key's public JWK as a TOML inline table.
pub fn client_jwk_toml(pem: &str) -> String {
    let key = SigningKey::from_pem(pem, "client").unwrap();
    let members = key.verifying_key().jwk_members();
    let fields: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{k} = \"{}\"", v.as_str().unwrap()))
        .collect();
    format!("{{ {}, kid = \"{}\" }}", fields.join(", "), key.kid())
}

pub const WEB_SECRET: &str = "web-secret-0123456789abcdef";
pub const POST_SECRET: &str = "post-secret-0123456789abcdef";

/// The clients of the unit tests:
/// - `mobile`: public, PKCE, a private-use scheme and a loopback URI;
/// - `web`: confidential with `client_secret_basic`, one redirect URI;
/// - `post`: confidential with `client_secret_post`;
/// - `jwt`: confidential with `private_key_jwt` (the ES256 and RS256 test
///   client keys);
/// - `backend`: a resource server (introspects any access token).
pub fn test_clients() -> crate::clients::Clients {
    #[derive(serde::Deserialize)]
    struct File {
        clients: Vec<crate::clients::ClientConfig>,
    }
    let text = format!(
        r#"
[[clients]]
id = "mobile"
kind = "public"
redirect_uris = ["ru.school.diary:/oauth2", "http://127.0.0.1/cb"]
post_logout_redirect_uris = ["ru.school.diary:/logged-out"]
scopes = ["openid", "profile", "diary", "offline_access"]
name_ru = "Дневник"
name_en = "Diary"

[[clients]]
id = "web"
kind = "confidential"
secret_hash = "{web}"
redirect_uris = ["https://diary.example/callback?from=esia-link"]
post_logout_redirect_uris = ["https://diary.example/bye"]
scopes = ["openid", "profile", "diary"]
backchannel_logout_uri = "https://diary.example/backchannel"
name_ru = "Дневник (сайт)"
name_en = "Diary (web)"

[[clients]]
id = "post"
kind = "confidential"
secret_hash = "{post}"
token_endpoint_auth_method = "client_secret_post"
redirect_uris = ["https://post.example/cb"]
scopes = ["openid"]
name_ru = "Почта"
name_en = "Post"
subject = "public"

[[clients]]
id = "jwt"
kind = "confidential"
jwks = {{ keys = [{es}, {rs}] }}
redirect_uris = ["https://jwt.example/cb"]
scopes = ["openid", "offline_access"]
name_ru = "Ключ"
name_en = "Key"
id_token_signed_response_alg = "ES256"

[[clients]]
id = "backend"
kind = "confidential"
secret_hash = "{post}"
resource_server = true
name_ru = "Сервер дневника"
name_en = "Diary back end"
"#,
        web = secret_hash(WEB_SECRET),
        post = secret_hash(POST_SECRET),
        es = client_jwk_toml(CLIENT_ES256_PEM),
        rs = client_jwk_toml(CLIENT_RS256_PEM),
    );
    let file: File = toml::from_str(&text).unwrap();
    crate::clients::Clients::load(&file.clients, std::path::Path::new(".")).unwrap()
}
