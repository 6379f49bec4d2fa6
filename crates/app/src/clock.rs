//! Time is an input: every use case reads `now` from the clock the context
//! was built with, so tests and the demo can move it (a trusted person's
//! 24-hour wait passes in a click) while production reads the system's.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// Where the use cases get `now` from.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock (production).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system's clock moved forward by an offset someone sets: tests skip
/// a waiting period, the demo lets a visitor see it pass. Time still runs.
#[derive(Default)]
pub struct SettableClock {
    offset_ms: AtomicI64,
}

impl SettableClock {
    /// Moves the clock forward (or back, for a negative `by`).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }

    /// How far the clock is ahead of the system's.
    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settable_clock_runs_with_the_system_and_moves_when_told() {
        let clock = SettableClock::default();
        let before = Utc::now();
        assert!(clock.now() >= before && clock.now() - before < Duration::seconds(5));
        clock.advance(Duration::hours(24));
        let ahead = clock.now() - Utc::now();
        assert!(ahead > Duration::hours(23) && ahead <= Duration::hours(24));
        assert_eq!(clock.offset(), Duration::hours(24));
    }
}
