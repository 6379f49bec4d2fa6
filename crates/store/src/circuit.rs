//! The database circuit. While PostgreSQL is known to be down, every
//! statement fails at once instead of waiting for the pool again, and one
//! background task probes the server until it answers; then the circuit
//! closes and statements go through again.
//!
//! A request therefore waits at most once for a database that is down: the
//! first failed acquire (bounded by the pool's acquire timeout) opens the
//! circuit, and what the request does next on its error path (recording the
//! failure) fails at once.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long the probe task waits between two probes of a database that is
/// down.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Default)]
pub(crate) struct Circuit {
    open: AtomicBool,
    /// A probe task runs (at most one at a time).
    probing: AtomicBool,
    /// How often the circuit opened since the process started.
    trips: AtomicU64,
}

impl Circuit {
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }

    pub fn trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }

    /// Opens the circuit and starts the probe task unless one runs. The
    /// first probe runs at once: a pool that timed out because every
    /// connection was busy (not down) closes the circuit again within one
    /// round trip.
    pub fn trip<P, F>(self: &Arc<Self>, probe: P)
    where
        P: Fn() -> F + Send + 'static,
        F: Future<Output = bool> + Send,
    {
        if !self.open.swap(true, Ordering::SeqCst) {
            self.trips.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "database unavailable: statements fail at once until a probe (every {} ms) succeeds",
                PROBE_EVERY.as_millis()
            );
        }
        if self.probing.swap(true, Ordering::SeqCst) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to probe on: stay closed rather than open for good.
            self.probing.store(false, Ordering::SeqCst);
            self.open.store(false, Ordering::SeqCst);
            return;
        };
        let circuit = self.clone();
        runtime.spawn(async move {
            while !probe().await {
                tokio::time::sleep(PROBE_EVERY).await;
            }
            // In this order: a trip between the two stores starts a probe
            // of its own instead of finding this one still "running".
            circuit.probing.store(false, Ordering::SeqCst);
            circuit.open.store(false, Ordering::SeqCst);
            tracing::info!("database answers again: circuit closed");
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    async fn until(within: Duration, what: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if what() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("condition not reached within {within:?}");
    }

    #[tokio::test]
    async fn stays_open_while_probes_fail_and_closes_on_the_first_success() {
        let circuit = Arc::new(Circuit::default());
        let probes = Arc::new(AtomicU32::new(0));
        let counted = probes.clone();
        circuit.trip(move || {
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            async move { n >= 3 }
        });
        assert!(circuit.is_open(), "open at once");
        // A second failure while open neither counts a trip nor starts a
        // second probe task.
        circuit.trip(|| async { panic!("a second probe task") });
        assert_eq!(circuit.trips(), 1);
        until(Duration::from_secs(3), || !circuit.is_open()).await;
        assert_eq!(
            probes.load(Ordering::SeqCst),
            3,
            "probed until one answered"
        );
        circuit.trip(|| async { true });
        assert_eq!(circuit.trips(), 2, "a new outage is a new trip");
        until(Duration::from_secs(1), || !circuit.is_open()).await;
    }

    #[tokio::test]
    async fn a_busy_pool_that_is_not_down_closes_within_one_probe() {
        let circuit = Arc::new(Circuit::default());
        circuit.trip(|| async { true });
        // Sooner than the probe interval: the first probe does not wait.
        until(PROBE_EVERY / 5, || !circuit.is_open()).await;
        assert!(
            !circuit.probing.load(Ordering::SeqCst),
            "the probe task ended"
        );
    }
}
