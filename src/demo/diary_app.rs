//! The demo's "diary app" (#28): a web app on its own origin that signs
//! people in through esia-link as its OpenID Provider, the way a school's
//! diary would — the `openidconnect` crate, PKCE, `state` and `nonce`,
//! userinfo with the `diary` scope, RP-initiated logout and a back-channel
//! logout receiver that checks the logout token's signature — and shows
//! the children the token lets it see. Sessions live in memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKey, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, JsonWebKey, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use serde_json::Value;

/// The demo app's client at esia-link (`config/demo.toml`).
pub const CLIENT_ID: &str = "demo-diary";
/// Published with the demo; its argon2 hash is in `config/demo.toml`.
const CLIENT_SECRET: &str = "demo-diary-app-secret";
const COOKIE: &str = "demo_diary_app";

/// Points the demo client's registered URIs at an app served at `app_url`.
pub fn register(config: &mut config::Config, app_url: &str) {
    let base = app_url.trim_end_matches('/');
    for client in config.clients.iter_mut().filter(|c| c.id == CLIENT_ID) {
        client.redirect_uris = vec![format!("{base}/callback")];
        client.post_logout_redirect_uris = vec![format!("{base}/")];
        client.backchannel_logout_uri = Some(format!("{base}/backchannel"));
    }
}

struct Pending {
    verifier: String,
    nonce: String,
}

struct SignedIn {
    name: String,
    acr: String,
    sid: Option<String>,
    id_token: String,
    diary: Value,
}

struct DiaryApp {
    provider: String,
    base: String,
    http: openidconnect::reqwest::Client,
    /// By `state`.
    pending: Mutex<HashMap<String, Pending>>,
    /// By cookie value.
    sessions: Mutex<HashMap<String, SignedIn>>,
}

type Shared = Arc<DiaryApp>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves the app on `listener` against esia-link at `provider_url`;
/// returns the app's URL.
pub fn spawn(listener: tokio::net::TcpListener, provider_url: &str) -> anyhow::Result<String> {
    let base = format!("http://{}", listener.local_addr()?);
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()?;
    let state: Shared = Arc::new(DiaryApp {
        provider: provider_url.trim_end_matches('/').to_string(),
        base: base.clone(),
        http,
        pending: Mutex::default(),
        sessions: Mutex::default(),
    });
    let router = Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", get(logout))
        .route("/backchannel", post(backchannel))
        .with_state(state);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(base)
}

impl DiaryApp {
    async fn metadata(&self) -> anyhow::Result<CoreProviderMetadata> {
        Ok(
            CoreProviderMetadata::discover_async(
                IssuerUrl::new(self.provider.clone())?,
                &self.http,
            )
            .await?,
        )
    }

    async fn client(
        &self,
    ) -> anyhow::Result<
        openidconnect::core::CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    > {
        Ok(CoreClient::from_provider_metadata(
            self.metadata().await?,
            ClientId::new(CLIENT_ID.into()),
            Some(ClientSecret::new(CLIENT_SECRET.into())),
        )
        .set_redirect_uri(RedirectUrl::new(format!("{}/callback", self.base))?))
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(body: &str) -> Response {
    Html(format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>Демо-дневник</title></head>\
         <body><h1>Демо-дневник <small>(demo diary app)</small></h1>{body}</body></html>"
    ))
    .into_response()
}

fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::COOKIE)?
        .to_str()
        .ok()?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn failed(error: impl std::fmt::Display) -> Response {
    let mut response = page(&format!(
        "<p id=\"app-error\">Не получилось войти: {}</p><p><a href=\"/\">На главную</a></p>",
        escape(&error.to_string())
    ));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

async fn home(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let sessions = lock(&app.sessions);
    let Some(signed) = cookie_of(&headers).and_then(|c| sessions.get(&c)) else {
        return page(
            "<p>Вы не вошли. <small>You are not signed in.</small></p>\
             <p><a id=\"sign-in\" href=\"/login\">Войти через esia-link</a></p>",
        );
    };
    let pupils = signed.diary["pupils"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let list = if pupils.is_empty() {
        "<p id=\"no-pupils\">Токен не даёт доступа ни к одному дневнику.</p>".to_string()
    } else {
        let items: String = pupils
            .iter()
            .map(|p| {
                format!(
                    "<li class=\"pupil\">{} — {} {} ({})</li>",
                    escape(p["full_name"].as_str().unwrap_or("")),
                    escape(p["class_name"].as_str().unwrap_or("")),
                    escape(p["school"].as_str().unwrap_or("")),
                    escape(p["basis"].as_str().unwrap_or("")),
                )
            })
            .collect();
        format!("<ul id=\"pupils\">{items}</ul>")
    };
    page(&format!(
        "<p id=\"who\">Вы вошли как {}.</p><p>Роль: {}; способ входа: <code>{}</code></p>\
         <h2>Дневники, которые видно по токену</h2>{list}\
         <p><a id=\"sign-out\" href=\"/logout\">Выйти</a></p>",
        escape(&signed.name),
        escape(signed.diary["role"].as_str().unwrap_or("")),
        escape(&signed.acr),
    ))
}

async fn login(State(app): State<Shared>) -> Response {
    let client = match app.client().await {
        Ok(client) => client,
        Err(error) => return failed(error),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("diary".into()))
        .set_pkce_challenge(challenge)
        .url();
    lock(&app.pending).insert(
        state.secret().clone(),
        Pending {
            verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
        },
    );
    redirect(url.as_str())
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(State(app): State<Shared>, Query(answer): Query<Callback>) -> Response {
    if let Some(error) = answer.error {
        return failed(format!("esia-link answered {error}"));
    }
    let pending = answer
        .state
        .and_then(|state| lock(&app.pending).remove(&state));
    let (Some(pending), Some(code)) = (pending, answer.code) else {
        return failed("unknown state");
    };
    match sign_in(&app, &code, pending).await {
        Ok(signed) => {
            let cookie = CsrfToken::new_random().secret().clone();
            lock(&app.sessions).insert(cookie.clone(), signed);
            let mut response = redirect("/");
            if let Ok(value) = HeaderValue::from_str(&format!(
                "{COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax"
            )) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(error) => failed(error),
    }
}

async fn sign_in(app: &DiaryApp, code: &str, pending: Pending) -> anyhow::Result<SignedIn> {
    let client = app.client().await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&app.http)
        .await?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| anyhow::anyhow!("no ID token"))?;
    // The demo client asks for ES256 ID tokens (`config/demo.toml`).
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = id_token.claims(&verifier, &Nonce::new(pending.nonce))?;
    let raw = claims_of(&id_token.to_string())?;
    let userinfo: Value = app
        .http
        .get(format!("{}/oauth2/userinfo", app.provider))
        .bearer_auth(openidconnect::OAuth2TokenResponse::access_token(&tokens).secret())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let name = userinfo["name"].as_str().unwrap_or_default().to_string();
    Ok(SignedIn {
        name,
        acr: claims
            .auth_context_ref()
            .map(|acr| acr.to_string())
            .unwrap_or_default(),
        sid: raw["sid"].as_str().map(str::to_string),
        id_token: id_token.to_string(),
        diary: userinfo["diary"].clone(),
    })
}

fn claims_of(jwt: &str) -> anyhow::Result<Value> {
    let part = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("not a JWT"))?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part)?)?)
}

async fn logout(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let signed = cookie_of(&headers).and_then(|c| lock(&app.sessions).remove(&c));
    let Some(signed) = signed else {
        return redirect("/");
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", &signed.id_token)
        .append_pair("post_logout_redirect_uri", &format!("{}/", app.base))
        .finish();
    redirect(&format!("{}/oauth2/logout?{query}", app.provider))
}

#[derive(Deserialize)]
struct Backchannel {
    logout_token: String,
}

/// OpenID Back-Channel Logout §2.6: check the token (signature by a key
/// of esia-link's JWKS, issuer, audience, the logout event, no nonce),
/// then end the sessions of its `sid`.
async fn backchannel(State(app): State<Shared>, Form(form): Form<Backchannel>) -> StatusCode {
    match check_logout_token(&app, &form.logout_token).await {
        Ok(sid) => {
            lock(&app.sessions).retain(|_, s| s.sid.as_deref() != Some(sid.as_str()));
            StatusCode::OK
        }
        Err(error) => {
            tracing::warn!(%error, "demo diary app: logout token refused");
            StatusCode::BAD_REQUEST
        }
    }
}

async fn check_logout_token(app: &DiaryApp, token: &str) -> anyhow::Result<String> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("not a JWS");
    };
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header)?)?;
    let alg: CoreJwsSigningAlgorithm = serde_json::from_value(header["alg"].clone())?;
    let kid = header["kid"].as_str().unwrap_or_default();
    let metadata = app.metadata().await?;
    let key: &CoreJsonWebKey = metadata
        .jwks()
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
        .ok_or_else(|| anyhow::anyhow!("unknown key {kid}"))?;
    key.verify_signature(
        &alg,
        format!("{}.{payload}", token.split('.').next().unwrap_or_default()).as_bytes(),
        &URL_SAFE_NO_PAD.decode(signature)?,
    )
    .map_err(|e| anyhow::anyhow!("bad signature: {e:?}"))?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    anyhow::ensure!(claims["iss"] == app.provider.as_str(), "another issuer");
    anyhow::ensure!(claims["aud"] == CLIENT_ID, "another audience");
    anyhow::ensure!(
        claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object(),
        "not a logout event"
    );
    anyhow::ensure!(claims.get("nonce").is_none(), "a nonce");
    claims["sid"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no sid"))
}
