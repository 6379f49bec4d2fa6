//! `esia-link bench apps`: esia-link as the OpenID Provider of the diary's
//! apps, measured from the outside. A person signs in once through State
//! Services; then the demo's native app signs them in again and again, the
//! way an app does when the person already has an esia-link session:
//! authorize (a code at once), token (code + PKCE verifier → access, ID
//! and refresh token), userinfo. Printed: the service's CPU time per app
//! sign-in, its throughput, and the token endpoint's throughput alone.
//!
//! The service runs as a child process (see [`super::bench`]), so its CPU
//! time is measured apart from this load generator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::bench::BenchService;
use super::browser::{Consent, ScriptedBrowser};

/// The demo's public native client (`config/demo.toml`): ES256 ID tokens.
const CLIENT: &str = "demo-mobile";
const REDIRECT: &str = "http://127.0.0.1/callback";

struct Caller {
    http: reqwest::Client,
    service: String,
    cookie: String,
}

impl Caller {
    /// A code for the signed-in person, and the verifier that redeems it.
    async fn code(&self) -> anyhow::Result<(String, String)> {
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let url = format!(
            "{}/oauth2/authorize?response_type=code&client_id={CLIENT}&scope=openid%20profile%20diary&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256&state=bench",
            self.service,
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        );
        let answer = self
            .http
            .get(url)
            .header("Cookie", format!("el_session={}", self.cookie))
            .send()
            .await?;
        let location = answer
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                anyhow::anyhow!("authorize answered {} without a redirect", answer.status())
            })?;
        let code = url::Url::parse(location)?
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| anyhow::anyhow!("no code in {location}"))?;
        Ok((code, verifier))
    }

    /// Redeems a code; returns the access token.
    async fn token(&self, code: &str, verifier: &str) -> anyhow::Result<String> {
        let answer: serde_json::Value = self
            .http
            .post(format!("{}/oauth2/token", self.service))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("client_id", CLIENT),
                ("code_verifier", verifier),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        answer["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("no access token: {answer}"))
    }

    async fn userinfo(&self, access: &str) -> anyhow::Result<()> {
        self.http
            .get(format!("{}/oauth2/userinfo", self.service))
            .bearer_auth(access)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn sign_in(&self) -> anyhow::Result<()> {
        let (code, verifier) = self.code().await?;
        let access = self.token(&code, &verifier).await?;
        self.userinfo(&access).await
    }
}

/// Runs `count` jobs, `concurrency` at a time; returns the wall time.
async fn run_all<F, Fut>(count: usize, concurrency: usize, job: F) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let permit = gate.clone().acquire_owned().await?;
        let work = job(i);
        tasks.push(tokio::spawn(async move {
            let result = work.await;
            drop(permit);
            result
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}

pub async fn apps(signins: usize, concurrency: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        signins > 0 && concurrency > 0,
        "--signins and --concurrency must be positive"
    );
    let service = BenchService::start().await?;
    let browser = ScriptedBrowser::new();
    let run = browser
        .login(
            &service.url,
            &format!("{}/auth/start/esia", service.url),
            "ivanova",
            "demo",
            Consent::Allow,
        )
        .await?;
    anyhow::ensure!(
        run.landed_at() == Some("/account"),
        "the State Services login failed"
    );
    let caller = Arc::new(Caller {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        cookie: browser
            .cookie(&service.url, "el_session")
            .ok_or_else(|| anyhow::anyhow!("no session cookie"))?,
        service: service.url.clone(),
    });
    // Warm-up: connections, caches, the allocator.
    for _ in 0..50 {
        caller.sign_in().await?;
    }

    let cpu_before = service.cpu()?;
    let wall = run_all(signins, concurrency, |_| {
        let caller = caller.clone();
        async move { caller.sign_in().await }
    })
    .await?;
    let signin_cpu = service.cpu()?.saturating_sub(cpu_before);

    // The token endpoint alone: codes first, then only their redemption.
    let mut codes = Vec::with_capacity(signins);
    for _ in 0..signins {
        codes.push(caller.code().await?);
    }
    let codes = Arc::new(codes);
    let cpu_before = service.cpu()?;
    let token_wall = run_all(signins, concurrency, |i| {
        let caller = caller.clone();
        let codes = codes.clone();
        async move {
            let (code, verifier) = &codes[i];
            caller.token(code, verifier).await.map(|_| ())
        }
    })
    .await?;
    let token_cpu = service.cpu()?.saturating_sub(cpu_before);
    service.stop().await;

    println!("esia-link bench apps (client {CLIENT}: ES256 ID and access tokens, PKCE)");
    println!("  app sign-ins:   {signins} (concurrency {concurrency}), each authorize → token → userinfo");
    println!(
        "  service CPU:    {:.3} ms per app sign-in ({:.2} s in total)",
        signin_cpu.as_secs_f64() * 1000.0 / signins as f64,
        signin_cpu.as_secs_f64()
    );
    println!(
        "  throughput:     {:.0} app sign-ins/s ({:.2} s wall)",
        signins as f64 / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "  token endpoint: {:.0} code exchanges/s, {:.3} ms service CPU each",
        signins as f64 / token_wall.as_secs_f64(),
        token_cpu.as_secs_f64() * 1000.0 / signins as f64
    );
    println!(
        "  (the service's CPU from /proc, 10 ms ticks; the load generator runs in this process)"
    );
    Ok(())
}
