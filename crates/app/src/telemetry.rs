//! Prometheus metrics: one recorder per process, rendered at `/metrics`.
//!
//! | metric | labels |
//! | --- | --- |
//! | `esia_link_login_attempts_total` | `outcome`, `provider` |
//! | `esia_link_idp_errors_total` | `provider`, `code` (ESIA code or ours) |
//! | `esia_link_idp_seconds` (histogram) | `provider`: token exchange + verification + person data |
//! | `esia_link_rate_limited_total` | `what`: `login_start`, `callback` |
//! | `esia_link_certificate_expiry_days` (gauge) | `provider`, `certificate` (serial): whole days to the end of validity, negative once past |
//! | `esia_link_certificate_expiring` (gauge) | the same: 1 within `certificate_warning_days` of the end, past it, or before the start; else 0 |
//! | `esia_link_database_circuit_open` (gauge) | 1 while the database is known to be down (statements fail at once, a probe runs every 500 ms); else 0 |
//! | `esia_link_database_outages_total` | times the circuit opened since the process started |
//! | `esia_link_journal_held` (gauge) | successful-login records held in memory for a retry (the database refused them) |
//! | `esia_link_journal_dropped_total` | `what`: `attempt`, `touch`: such records dropped unwritten (held too long, or too many) |
//! | `esia_link_refusals_unrecorded_total` | `code`: temporary refusals (a store down) counted here instead of an attempt row each; one row per provider and code per 10 s is written |
//!
//! Gauges not set for three hours are dropped: the certificate gauges are
//! set hourly, so a certificate removed from the configuration leaves no
//! stale (and alerting) series behind.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder (once per process; later calls reuse it).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
                .ok()?
                .idle_timeout(
                    metrics_util::MetricKindMask::GAUGE,
                    Some(std::time::Duration::from_secs(3 * 3600)),
                )
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
}

/// Drains the histograms' raw samples into their buckets every `period`,
/// for as long as the process runs. The recorder keeps every sample until
/// it is drained, and a recorder built without the exporter's HTTP
/// listener (as here: `/metrics` is one of our routes) drains only when it
/// is rendered, so without a scraper each login's IdP timing would stay in
/// memory for good.
pub async fn run_upkeep(period: std::time::Duration) {
    let Some(handle) = install() else {
        return;
    };
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}

/// The text exposition of every metric.
pub fn render() -> String {
    install().map(|handle| handle.render()).unwrap_or_default()
}

pub fn login_attempt(outcome: &'static str, provider: &str) {
    metrics::counter!(
        "esia_link_login_attempts_total",
        "outcome" => outcome,
        "provider" => provider.to_string()
    )
    .increment(1);
}

pub fn idp_error(provider: &str, code: &str) {
    metrics::counter!(
        "esia_link_idp_errors_total",
        "provider" => provider.to_string(),
        "code" => code.chars().take(40).collect::<String>()
    )
    .increment(1);
}

pub fn idp_seconds(provider: &str, seconds: f64) {
    metrics::histogram!("esia_link_idp_seconds", "provider" => provider.to_string())
        .record(seconds);
}

pub fn rate_limited(what: &'static str) {
    metrics::counter!("esia_link_rate_limited_total", "what" => what).increment(1);
}

/// The database circuit's state, set at each scrape.
pub fn database_circuit(open: bool, outages: u64) {
    metrics::gauge!("esia_link_database_circuit_open").set(if open { 1.0 } else { 0.0 });
    metrics::counter!("esia_link_database_outages_total").absolute(outages);
}

/// Entries the login journal holds for a retry, set at each scrape.
pub fn journal_held(entries: usize) {
    metrics::gauge!("esia_link_journal_held").set(entries as f64);
}

pub fn journal_dropped(what: &'static str, entries: usize) {
    if entries > 0 {
        metrics::counter!("esia_link_journal_dropped_total", "what" => what)
            .increment(entries as u64);
    }
}

/// A temporary refusal counted instead of recorded (see `login::refusals`).
pub fn refusal_unrecorded(code: &str) {
    metrics::counter!(
        "esia_link_refusals_unrecorded_total",
        "code" => code.chars().take(40).collect::<String>()
    )
    .increment(1);
}

/// An activation code redeemed (the wizard finished).
pub fn activation_redeemed() {
    metrics::counter!("esia_link_activation_redemptions_total").increment(1);
}

/// A diary app was granted tokens (`grant`: `authorization_code` or
/// `refresh_token`).
pub fn app_grant(grant: &'static str, client: &str) {
    metrics::counter!(
        "esia_link_app_grants_total",
        "grant" => grant,
        "client" => client.to_string()
    )
    .increment(1);
}

/// A diary app's token request was refused (`error` is the OAuth error code).
pub fn app_refusal(endpoint: &'static str, error: &'static str) {
    metrics::counter!(
        "esia_link_app_refusals_total",
        "endpoint" => endpoint,
        "error" => error
    )
    .increment(1);
}

/// Grants revoked, by why (`code_replay`, `refresh_reuse`, `session_end`, …).
pub fn app_grants_revoked(why: &'static str, grants: usize) {
    if grants > 0 {
        metrics::counter!("esia_link_app_grants_revoked_total", "why" => why)
            .increment(grants as u64);
    }
}

/// A back-channel logout delivery's result: `delivered`, `retry`, `abandoned`.
pub fn app_logout_delivery(result: &'static str) {
    metrics::counter!("esia_link_app_logout_deliveries_total", "result" => result).increment(1);
}
