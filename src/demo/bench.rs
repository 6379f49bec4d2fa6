//! `esia-link bench login`: complete logins through the real HTTP flow
//! (start → mock IdP login and consent → callback → session) and the
//! figures that matter on a September morning: logins/s, latency
//! percentiles, and the service's own CPU time per login.
//!
//! The service runs as a child process (this binary's hidden `bench-target`
//! command) so that its CPU time is measured apart from the mock IdP and the
//! load generator, which run in this process.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring::rand::SystemRandom;
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use tokio::sync::Semaphore;

use super::browser::{Consent, ScriptedBrowser};
use super::{demo_base_config, demo_clients, demo_config, DEMO_CLIENT_KEY};
use crate::ops::roster::{seed, DEMO_ROSTER};
use crate::startup::Application;
use federation::signer::Signer;

/// Persons of the mock IdP whose logins succeed against the demo roster.
const LINKABLE: [&str; 8] = [
    "ivanova", "fedorov", "smirnov", "morozov", "volkova", "novikova", "egorova", "testov",
];

pub async fn login(logins: usize, concurrency: usize, provider: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        logins > 0 && concurrency > 0,
        "--logins and --concurrency must be positive"
    );
    // First, while nothing else runs.
    let reference = rsa_reference()?;
    let service = BenchService::start().await?;
    let service_url = service.url.clone();
    let pid = service.pid;

    let start_url = format!("{service_url}/auth/start/{provider}");
    // Warm-up: the first login of each person links; later ones log in.
    for person in LINKABLE {
        let run = ScriptedBrowser::new()
            .login(&service_url, &start_url, person, "demo", Consent::Allow)
            .await?;
        anyhow::ensure!(
            run.landed_at() == Some("/account"),
            "warm-up login of {person} did not succeed: {:?}",
            run.outcome
        );
    }

    let cpu_before = process_cpu(pid)?;
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(logins);
    for i in 0..logins {
        let permit = gate.clone().acquire_owned().await?;
        let service_url = service_url.clone();
        let start_url = start_url.clone();
        tasks.push(tokio::spawn(async move {
            let person = LINKABLE[i % LINKABLE.len()];
            let began = Instant::now();
            let run = ScriptedBrowser::new()
                .login(&service_url, &start_url, person, "demo", Consent::Allow)
                .await;
            drop(permit);
            let ok = matches!(&run, Ok(r) if r.landed_at() == Some("/account"));
            (began.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(logins);
    let mut failures = 0usize;
    for task in tasks {
        let (latency, ok) = task.await?;
        latencies.push(latency);
        if !ok {
            failures += 1;
        }
    }
    let wall = started.elapsed();
    let cpu_after = process_cpu(pid)?;
    service.stop().await;

    latencies.sort();
    let pct = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index.min(latencies.len() - 1)]
    };
    let cpu = cpu_after.saturating_sub(cpu_before);
    println!("esia-link bench login ({provider} profile)");
    println!("  logins:        {logins} (concurrency {concurrency}), failed: {failures}");
    println!("  wall time:     {:.2} s", wall.as_secs_f64());
    println!(
        "  throughput:    {:.1} logins/s",
        logins as f64 / wall.as_secs_f64()
    );
    println!(
        "  latency p50:   {:.1} ms",
        pct(0.50).as_secs_f64() * 1000.0
    );
    println!(
        "  latency p99:   {:.1} ms",
        pct(0.99).as_secs_f64() * 1000.0
    );
    println!(
        "  service CPU:   {:.3} ms per login ({:.2} s user+system in total)",
        cpu.as_secs_f64() * 1000.0 / logins as f64,
        cpu.as_secs_f64()
    );
    println!("  (each login: 2 requests to the service — start and callback — plus 1 token exchange and 1 person-data call to the IdP)");
    println!(
        "  this machine:  ring RSA-2048 signature {:.2} ms, check {:.0} µs (measured before the run)",
        reference.sign.as_secs_f64() * 1000.0,
        reference.check.as_secs_f64() * 1e6
    );
    anyhow::ensure!(failures == 0, "{failures} logins failed");
    Ok(())
}

/// The service under measurement: this binary's `bench-target` as a child
/// process on a scratch SQLite database, with a mock IdP in this process.
pub(super) struct BenchService {
    pub url: String,
    pub pid: u32,
    child: tokio::process::Child,
    idp: mock_idp::MockIdp,
    scratch: PathBuf,
}

impl BenchService {
    pub async fn start() -> anyhow::Result<BenchService> {
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let scratch =
            std::env::temp_dir().join(format!("esia-link-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&scratch)?;
        let database = scratch.join("bench.db");
        let probe = demo_config(
            demo_base_config()?,
            &url,
            "http://127.0.0.1:1",
            "sqlite::memory:",
            Path::new("unused.pem"),
        );
        let idp = mock_idp::spawn(mock_idp::MockIdpConfig {
            clients: demo_clients(&probe),
            ..mock_idp::MockIdpConfig::default()
        })
        .await?;
        let exe = std::env::current_exe()?;
        let child = tokio::process::Command::new(exe)
            .arg("bench-target")
            .arg("--port")
            .arg(port.to_string())
            .arg("--idp-url")
            .arg(idp.base_url())
            .arg("--database")
            .arg(&database)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| anyhow::anyhow!("the service process has no pid"))?;
        wait_healthy(&url).await?;
        Ok(BenchService {
            url,
            pid,
            child,
            idp,
            scratch,
        })
    }

    /// The service's CPU time so far (user + system, all threads).
    pub fn cpu(&self) -> anyhow::Result<Duration> {
        process_cpu(self.pid)
    }

    pub async fn stop(mut self) {
        stop(&mut self.child, self.pid).await;
        self.idp.shutdown();
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// What the protocol's own arithmetic costs on this machine at this hour.
struct RsaReference {
    sign: Duration,
    check: Duration,
}

/// Times ring's RSA-2048 signature (the ESIA profile's service makes two
/// per login, as `client_secret`) and signature check (every profile makes
/// at least one, of the id_token), with the demo client key. The machine's
/// speed changes by up to two times from hour to hour; a CPU figure from
/// one hour compares with another's only beside these.
fn rsa_reference() -> anyhow::Result<RsaReference> {
    let pair = match Signer::rsa_from_pem(DEMO_CLIENT_KEY)? {
        Signer::Rsa(pair) => pair,
        Signer::Command { .. } => anyhow::bail!("the demo client key is not an RSA key"),
    };
    let message = b"esia-link bench reference";
    let random = SystemRandom::new();
    let mut signature = vec![0; pair.public().modulus_len()];
    let sign = fastest_per_call(20, || {
        pair.sign(&RSA_PKCS1_SHA256, &random, message, &mut signature)
            .map_err(|_| anyhow::anyhow!("the reference signature failed"))
    })?;
    let key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public().as_ref());
    let check = fastest_per_call(200, || {
        key.verify(message, &signature)
            .map_err(|_| anyhow::anyhow!("the reference signature does not check"))
    })?;
    Ok(RsaReference { sign, check })
}

/// Time per call of the fastest of five rounds of `calls` calls: the
/// reference runs before the load, but nothing keeps the rest of the
/// machine quiet. (Wall clock: the thread's CPU clock would come through
/// rustix's vDSO lookup, which crashes under valgrind.)
fn fastest_per_call(
    calls: u32,
    mut call: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Duration> {
    let mut fastest = Duration::MAX;
    for _ in 0..5 {
        let began = Instant::now();
        for _ in 0..calls {
            call()?;
        }
        fastest = fastest.min(began.elapsed() / calls);
    }
    Ok(fastest)
}

/// The service side of the benchmark: demo roster, mock IdP elsewhere.
pub async fn target(port: u16, idp_url: &str, database: &Path) -> anyhow::Result<()> {
    let service_url = format!("http://127.0.0.1:{port}");
    let database_url = format!("sqlite://{}?mode=rwc", database.display());
    // The mock's ESIA certificates, handed over as a file as with real ESIA.
    let certificates = database.with_extension("esia.pem");
    let pem = reqwest::get(format!(
        "{}/esia/certificates.pem",
        idp_url.trim_end_matches('/')
    ))
    .await?
    .error_for_status()?
    .text()
    .await?;
    std::fs::write(&certificates, pem)?;
    // The environment applies (ESIA_LINK__...), so settings can be compared.
    let mut config = demo_config(
        super::demo_layers(None)?,
        &service_url,
        idp_url,
        &database_url,
        &certificates,
    );
    config.server.listen = ([127, 0, 0, 1], port).into();
    // The load comes from one address; the limiter is not what is measured.
    config.security.login_starts_per_minute = u64::MAX / 2;
    config.log.filter = "error".into();
    crate::logging::init(&config.log);
    let app = Application::build(config).await?;
    seed(&app.state(), &app.store(), DEMO_ROSTER, "system:bench").await?;
    app.run_until_stopped().await
}

/// SIGTERM, as an operator stops the service, so that it shuts down as it
/// would in production (and tools watching it see it end); SIGKILL if it
/// has not ended within five seconds.
async fn stop(child: &mut tokio::process::Child, pid: u32) {
    let terminated = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .map(|pid| rustix::process::kill_process(pid, rustix::process::Signal::TERM));
    if matches!(terminated, Some(Ok(())))
        && tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .is_ok()
    {
        return;
    }
    let _ = child.kill().await;
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

async fn wait_healthy(service_url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(response) = client.get(format!("{service_url}/healthz")).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the service did not become healthy within 10 s")
}

/// User + system CPU time of a process (all threads), from /proc.
fn process_cpu(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/stat")))?;
    // Fields after the command name (which may contain spaces) start at ')'.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc stat format"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after ')'.
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    const CLOCK_TICKS_PER_SECOND: u64 = 100;
    Ok(Duration::from_millis(ticks * 1000 / CLOCK_TICKS_PER_SECOND))
}
