//! esia-link as the OpenID Provider of the diary's apps (#28), driven the
//! way the apps drive it: the `openidconnect` crate as the client, a person
//! signing in through State Services at the mock IdP in a scripted browser,
//! and a back-channel receiver of the test's own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use esia_link::demo::browser::{Consent, ScriptedBrowser};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;

use crate::helpers::{spawn_app_with, AppOptions, TestApp};

/// The web app's secret (its argon2 hash is in [`apps_toml`]).
pub(crate) const WEB_SECRET: &str = "demo-diary-app-secret";
const WEB_SECRET_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$6sea7A6+KF5Y87T3cRi0rQ$9slo7nmhFdfdksdSaYjA3dvn8bRg3Dh83ilJFOXbDVY";
pub(crate) const WEB_REDIRECT: &str = "https://diary.example/callback";
const NATIVE_REDIRECT: &str = "http://127.0.0.1/callback";
pub(crate) const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// `[apps]` with three clients: a confidential web app (RS256 ID tokens,
/// back-channel logout to `receiver`), a public native app (PKCE, ES256,
/// offline access) and a diary back end that may introspect any token.
fn apps_toml(receiver: &str) -> String {
    let rs256 = include_str!("../../crates/provider/demo/op-rs256.pem");
    let es256 = include_str!("../../crates/provider/demo/op-es256.pem");
    format!(
        r#"
subject_key = "a test subject key of more than thirty-two bytes"

[[signing_keys]]
pem = """{rs256}"""

[[signing_keys]]
pem = """{es256}"""

[[clients]]
id = "diary-web"
kind = "confidential"
secret_hash = "{WEB_SECRET_HASH}"
redirect_uris = ["{WEB_REDIRECT}"]
post_logout_redirect_uris = ["https://diary.example/bye"]
scopes = ["openid", "profile", "diary"]
backchannel_logout_uri = "{receiver}"
name_ru = "Электронный дневник"
name_en = "E-diary"

[[clients]]
id = "diary-phone"
kind = "public"
redirect_uris = ["{NATIVE_REDIRECT}"]
scopes = ["openid", "profile", "diary", "offline_access"]
name_ru = "Дневник на телефоне"
name_en = "Diary on the phone"
id_token_signed_response_alg = "ES256"

[[clients]]
id = "diary-api"
kind = "confidential"
secret_hash = "{WEB_SECRET_HASH}"
token_endpoint_auth_method = "client_secret_post"
scopes = ["openid"]
name_ru = "Сервер дневника"
name_en = "Diary back end"
resource_server = true
"#
    )
}

/// Logout tokens the test's back-channel receiver was sent.
pub(crate) type Received = Arc<Mutex<Vec<String>>>;

/// A back-channel logout receiver: records each `logout_token`.
pub(crate) async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let kept = received.clone();
    let router = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(move |body: String| {
            let kept = kept.clone();
            async move {
                let token = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                kept.lock().expect("lock").push(token);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/backchannel",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, received)
}

pub(crate) async fn apps_app(receiver: &str) -> TestApp {
    let toml = apps_toml(receiver);
    spawn_app_with(AppOptions {
        configure: Some(Box::new(move |config| {
            config.apps = Some(toml::from_str(&toml).expect("[apps]"));
        })),
        ..AppOptions::default()
    })
    .await
}

pub(crate) fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn metadata(app: &TestApp) -> CoreProviderMetadata {
    CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).expect("issuer"), &http())
        .await
        .expect("discovery")
}

/// A query parameter of a URL.
pub(crate) fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The claims of a JWT, unverified (the tests check what was signed; the
/// `openidconnect` client verifies the ID tokens).
pub(crate) fn jwt_part(token: &str, part: usize) -> Value {
    let encoded = token.split('.').nth(part).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).expect("base64url")).expect("JSON")
}

/// The `href` of the element with `id` on a page.
pub(crate) fn href_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find("href=\"")? + 6;
    let end = rest[start..].find('"')?;
    Some(
        rest[start..start + end]
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

/// Follows the authorization request as a person with no session does:
/// to the login page, the region, State Services, and back to the app.
/// Returns the app's redirect with the code.
async fn sign_in_through_state_services(
    app: &TestApp,
    browser: &ScriptedBrowser,
    authorize_url: &str,
    person: &str,
) -> String {
    let asked = browser.get(authorize_url).await.expect("authorize");
    assert_eq!(asked.status, 302, "{}", asked.body);
    let login_page = asked.location.expect("to the login page");
    assert!(login_page.starts_with("/?"), "{login_page}");
    // The person picks the school's region, then the State Services button.
    let region = browser
        .get(&format!("{}{login_page}&region=29", app.base))
        .await
        .expect("login page");
    // The page says which app asks.
    assert!(
        region
            .body
            .contains("просит вас войти в электронный дневник"),
        "{}",
        region.body
    );
    let start = href_of(&region.body, "login-esia").expect("the State Services button");
    let run = browser
        .login(
            &app.base,
            &format!("{}{start}", app.base),
            person,
            "demo",
            Consent::Allow,
        )
        .await
        .expect("State Services login");
    let back = run
        .landed_at()
        .expect("back from State Services")
        .to_string();
    assert!(back.starts_with("/oauth2/continue/"), "{back}");
    let answer = browser
        .get(&format!("{}{back}", app.base))
        .await
        .expect("continue");
    assert_eq!(answer.status, 302, "{}", answer.body);
    answer.location.expect("to the app")
}

#[tokio::test]
async fn a_web_app_signs_a_person_in_through_state_services() {
    let (backchannel, _) = receiver().await;
    let app = apps_app(&backchannel).await;
    let metadata = metadata(&app).await;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("diary-web".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(WEB_REDIRECT.into()).expect("redirect"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("diary".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = ScriptedBrowser::new();
    let back =
        sign_in_through_state_services(&app, &browser, authorize_url.as_str(), "ivanova").await;
    assert!(back.starts_with(WEB_REDIRECT), "{back}");
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(param(&back, "iss").as_deref(), Some(app.base.as_str()));

    let http = http();
    let tokens = client
        .exchange_code(AuthorizationCode::new(param(&back, "code").expect("code")))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("tokens");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("a valid ID token");
    let acr = claims.auth_context_ref().expect("acr").to_string();
    assert!(acr.starts_with("urn:esia-link:acr:esia:"), "{acr}");
    assert_eq!(
        claims
            .family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str()),
        Some("Иванова")
    );
    assert!(tokens.refresh_token().is_some());

    // RFC 9068 access token, checked offline by a diary back end.
    let access = tokens.access_token().secret();
    assert_eq!(jwt_part(access, 0)["typ"], "at+jwt");
    assert_eq!(jwt_part(access, 1)["client_id"], "diary-web");

    let userinfo: Value = http
        .get(format!("{}/oauth2/userinfo", app.base))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("JSON");
    assert_eq!(userinfo["sub"], claims.subject().as_str());
    assert_eq!(userinfo["given_name"], "Мария");
    assert_eq!(userinfo["diary"]["role"], "parent");
    assert!(userinfo["diary"]["pupils"].is_array(), "{userinfo}");
}

/// The native app's code for the person signed in to `browser`, without
/// another sign-in (the session is used).
pub(crate) async fn native_code(
    app: &TestApp,
    browser: &ScriptedBrowser,
    challenge: &str,
    port: u16,
) -> String {
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let url = format!(
        "{}/oauth2/authorize?response_type=code&client_id=diary-phone&scope=openid%20profile%20diary%20offline_access&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256&state=s1",
        app.base,
        url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
    );
    let answer = browser.get(&url).await.expect("authorize");
    let location = answer.location.expect("a redirect");
    assert!(location.starts_with(&redirect), "{location}");
    param(&location, "code").expect("a code")
}

pub(crate) async fn token(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut request = http().post(format!("{}/oauth2/token", app.base)).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let answer = request.send().await.expect("token endpoint");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn userinfo_status(app: &TestApp, access: &str) -> u16 {
    http()
        .get(format!("{}/oauth2/userinfo", app.base))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo")
        .status()
        .as_u16()
}

async fn introspect(app: &TestApp, token: &str) -> Value {
    http()
        .post(format!("{}/oauth2/introspect", app.base))
        .form(&[
            ("token", token),
            ("client_id", "diary-api"),
            ("client_secret", WEB_SECRET),
        ])
        .send()
        .await
        .expect("introspect")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn a_native_app_refreshes_and_a_reused_refresh_token_ends_the_grant() {
    let (backchannel, _) = receiver().await;
    let app = apps_app(&backchannel).await;
    let (browser, _) = app.login("esia", "ivanova", Consent::Allow).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    // RFC 8252 §7.3: any port on the loopback address.
    let code = native_code(&app, &browser, challenge.as_str(), 53_017).await;
    let redirect = "http://127.0.0.1:53017/callback";
    let (status, first) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("client_id", "diary-phone"),
            ("code_verifier", verifier.secret()),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().expect("access token");
    let refresh1 = first["refresh_token"].as_str().expect("refresh token");
    assert_eq!(
        jwt_part(first["id_token"].as_str().expect("ID token"), 0)["alg"],
        "ES256"
    );
    assert_eq!(introspect(&app, access).await["active"], true);
    assert_eq!(
        introspect(&app, refresh1).await["active"],
        false,
        "only its own client sees a refresh token"
    );

    let (status, second) = token_call(&app, refresh1).await;
    assert_eq!(status, 200, "{second}");
    let refresh2 = second["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_string();
    assert_ne!(refresh2, refresh1);

    // The first token again: reuse. The whole grant ends, the thief's and
    // the owner's tokens alike.
    let (status, reused) = token_call(&app, refresh1).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = token_call(&app, &refresh2).await;
    assert_eq!(status, 400);
    assert_eq!(userinfo_status(&app, access).await, 401);
    assert_eq!(introspect(&app, access).await["active"], false);
    let audit = revocations(&app).await;
    assert!(
        audit.iter().any(|r| r == "refresh token used twice"),
        "{audit:?}"
    );
}

async fn token_call(app: &TestApp, refresh: &str) -> (u16, Value) {
    token(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "diary-phone"),
        ],
        None,
    )
    .await
}

/// The reasons of the audit log's grant revocations.
async fn revocations(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT reason FROM audit_log WHERE action = 'app_grants_revoked' ORDER BY id",
    )
    .fetch_all(app.store.pool())
    .await
    .expect("audit")
}

#[tokio::test]
async fn revocation_by_the_app_ends_its_grant() {
    let (backchannel, _) = receiver().await;
    let app = apps_app(&backchannel).await;
    let (browser, _) = app.login("esia", "ivanova", Consent::Allow).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = native_code(&app, &browser, challenge.as_str(), 40_001).await;
    let (_, tokens) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:40001/callback"),
            ("client_id", "diary-phone"),
            ("code_verifier", verifier.secret()),
        ],
        None,
    )
    .await;
    let access = tokens["access_token"].as_str().expect("access");
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    // Another client may not revoke it (RFC 7009 §2.1)...
    let foreign = http()
        .post(format!("{}/oauth2/revoke", app.base))
        .basic_auth("diary-web", Some(WEB_SECRET))
        .form(&[("token", refresh)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(foreign.status().as_u16(), 400);
    assert_eq!(userinfo_status(&app, access).await, 200);
    // ...its own may.
    let own = http()
        .post(format!("{}/oauth2/revoke", app.base))
        .form(&[("token", refresh), ("client_id", "diary-phone")])
        .send()
        .await
        .expect("revoke");
    assert_eq!(own.status().as_u16(), 200);
    assert_eq!(userinfo_status(&app, access).await, 401);
    let (status, refused) = token_call(&app, refresh).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

/// An app sign-in of a person already signed in here, as `bench apps`
/// runs it: the grant written at the token endpoint, the person's claims
/// read there (2 statements) and again at userinfo (2), and the grant's
/// liveness at userinfo. On a SQLite file the five reads run on the
/// calling thread (`sqlite_reads`); they count all the same.
#[tokio::test]
async fn an_app_sign_in_keeps_its_statement_budget() {
    let (backchannel, _) = receiver().await;
    let app = apps_app(&backchannel).await;
    let (browser, _) = app.login("esia", "ivanova", Consent::Allow).await;
    // The login journal's write, out of the way.
    app.state.flush().await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let before = app.store.statements_run();
    let code = native_code(&app, &browser, challenge.as_str(), 40_002).await;
    let (status, tokens) = token(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:40002/callback"),
            ("client_id", "diary-phone"),
            ("code_verifier", verifier.secret()),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access");
    let userinfo: Value = http()
        .get(format!("{}/oauth2/userinfo", app.base))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("JSON");
    assert_eq!(userinfo["family_name"], "Иванова", "{userinfo}");
    assert_eq!(userinfo["diary"]["role"], "parent", "{userinfo}");
    let ran = app.store.statements_run() - before;
    assert!(ran <= 6, "an app sign-in ran {ran} statements");
}

/// The web app's tokens for Иванова, signed in through State Services in
/// `browser` (with the nonce `n1`).
pub(crate) async fn web_tokens(app: &TestApp, browser: &ScriptedBrowser) -> Value {
    let url = format!(
        "{}/oauth2/authorize?response_type=code&client_id=diary-web&scope=openid&redirect_uri={}&state=x&nonce=n1",
        app.base,
        url::form_urlencoded::byte_serialize(WEB_REDIRECT.as_bytes()).collect::<String>()
    );
    let back = sign_in_through_state_services(app, browser, &url, "ivanova").await;
    let (status, tokens) = token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &param(&back, "code").expect("code")),
            ("redirect_uri", WEB_REDIRECT),
        ],
        Some(("diary-web", WEB_SECRET)),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

/// Waits up to 10 s for the receiver to be sent a logout token.
pub(crate) async fn wait_for_a_delivery(received: &Received) {
    for _ in 0..100 {
        if !received.lock().expect("lock").is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_operator_unlink_sends_a_back_channel_logout() {
    let (backchannel, received) = receiver().await;
    let app = apps_app(&backchannel).await;
    let browser = ScriptedBrowser::new();
    let tokens = web_tokens(&app, &browser).await;
    let id_claims = jwt_part(tokens["id_token"].as_str().expect("ID token"), 1);
    assert_eq!(id_claims["nonce"], "n1");

    let cookie = browser.cookie(&app.base, "el_session").expect("session");
    let account = app
        .state
        .account()
        .session(Some(&cookie))
        .await
        .expect("session")
        .data
        .account_id;
    app.state
        .console()
        .unlink(
            "operator:test",
            account,
            "esia",
            "the person lost their State Services account",
        )
        .await
        .expect("unlink");

    wait_for_a_delivery(&received).await;
    let tokens_sent = received.lock().expect("lock").clone();
    assert_eq!(tokens_sent.len(), 1, "one delivery");
    let header = jwt_part(&tokens_sent[0], 0);
    let logout = jwt_part(&tokens_sent[0], 1);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(logout["iss"], app.base.as_str());
    assert_eq!(logout["aud"], "diary-web");
    assert_eq!(logout["sub"], id_claims["sub"]);
    assert_eq!(logout["sid"], id_claims["sid"]);
    assert!(logout["events"][LOGOUT_EVENT].is_object(), "{logout}");
    assert!(logout.get("nonce").is_none(), "{logout}");
    assert_eq!(
        userinfo_status(&app, tokens["access_token"].as_str().expect("access")).await,
        401
    );
    assert_eq!(app.store.logout_deliveries_owed().await.expect("owed"), 0);
}

#[tokio::test]
async fn an_app_logout_with_its_id_token_ends_the_session_without_asking() {
    let (backchannel, received) = receiver().await;
    let app = apps_app(&backchannel).await;
    let browser = ScriptedBrowser::new();
    let tokens = web_tokens(&app, &browser).await;
    let id_token = tokens["id_token"].as_str().expect("ID token");

    // Without the hint the person is asked first.
    let asked = browser
        .get(&format!("{}/oauth2/logout?client_id=diary-web", app.base))
        .await
        .expect("logout");
    assert_eq!(asked.status, 200);
    assert!(asked.body.contains("Электронный дневник"), "{}", asked.body);

    let logout = format!(
        "{}/oauth2/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye",
        app.base,
        url::form_urlencoded::byte_serialize(b"https://diary.example/bye").collect::<String>()
    );
    let answer = browser.get(&logout).await.expect("logout");
    assert_eq!(
        answer.location.as_deref(),
        Some("https://diary.example/bye?state=bye")
    );
    let account = browser
        .get(&format!("{}/account", app.base))
        .await
        .expect("account");
    assert_ne!(account.status, 200, "the session ended");
    wait_for_a_delivery(&received).await;
    assert_eq!(received.lock().expect("lock").len(), 1);
    assert_eq!(
        userinfo_status(&app, tokens["access_token"].as_str().expect("access")).await,
        401
    );
}

#[tokio::test]
async fn prompt_login_asks_a_signed_in_person_to_sign_in_again() {
    let (backchannel, _) = receiver().await;
    let app = apps_app(&backchannel).await;
    let (browser, _) = app.login("esia", "ivanova", Consent::Allow).await;
    let url = format!(
        "{}/oauth2/authorize?response_type=code&client_id=diary-web&scope=openid&redirect_uri={}&state=again&prompt=login",
        app.base,
        url::form_urlencoded::byte_serialize(WEB_REDIRECT.as_bytes()).collect::<String>()
    );
    let asked = browser.get(&url).await.expect("authorize");
    let login_page = asked.location.expect("to the login page, not a code");
    assert!(login_page.starts_with("/?"), "{login_page}");
    // Coming back without signing in again does not count.
    let waiting = param(&format!("{}{login_page}", app.base), "return_to").expect("return_to");
    let early = browser
        .get(&format!("{}{waiting}", app.base))
        .await
        .expect("continue");
    assert!(
        early.location.as_deref().unwrap_or("").starts_with("/?"),
        "{:?}",
        early.location
    );
    // A new sign-in does.
    let back = sign_in_through_state_services(&app, &browser, &url, "ivanova").await;
    assert!(back.starts_with(WEB_REDIRECT), "{back}");
    assert!(param(&back, "code").is_some(), "{back}");
}
