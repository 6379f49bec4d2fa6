//! Temporary refusals (a login refused because a store is down) are
//! recorded by sample, not one attempt row each: while the rate limiter's
//! Redis is down nothing else bounds them, and a client retrying in a tight
//! loop would write thousands of rows a minute. The first refusal of each
//! provider and code in a [`SAMPLE_WINDOW`] is written; the others in that
//! window show the same reference (an operator finds that row) and are
//! counted in `esia_link_refusals_unrecorded_total`.
//!
//! The bound: at most one row per provider and refusal code per window.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One recorded refusal per provider and code per this long.
pub const SAMPLE_WINDOW: Duration = Duration::from_secs(10);
/// (provider, code) pairs tracked at most: providers are the configured
/// ones and codes a short list, so this is never reached in practice.
const KEYS_MAX: usize = 256;

/// Whether a temporary refusal is written or only counted.
#[derive(Debug, PartialEq, Eq)]
pub enum Sample {
    /// The first of its window: write its attempt row.
    Record,
    /// Counted only; the page shows the window's recorded reference.
    Counted { reference: String },
}

struct Window {
    opened: Instant,
    reference: String,
}

pub struct RefusalSampler {
    window: Duration,
    windows: Mutex<HashMap<(String, String), Window>>,
}

impl Default for RefusalSampler {
    fn default() -> RefusalSampler {
        RefusalSampler::new(SAMPLE_WINDOW)
    }
}

impl RefusalSampler {
    pub fn new(window: Duration) -> RefusalSampler {
        RefusalSampler {
            window,
            windows: Mutex::default(),
        }
    }

    /// Decides for a refusal of `provider` with `code` whose own reference
    /// would be `reference`.
    pub fn admit(&self, provider: &str, code: &str, reference: &str) -> Sample {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (provider.to_string(), code.to_string());
        if let Some(open) = windows.get(&key) {
            if now.duration_since(open.opened) < self.window {
                return Sample::Counted {
                    reference: open.reference.clone(),
                };
            }
        }
        if windows.len() >= KEYS_MAX {
            windows.retain(|_, open| now.duration_since(open.opened) < self.window);
        }
        if windows.len() < KEYS_MAX {
            windows.insert(
                key,
                Window {
                    opened: now,
                    reference: reference.to_string(),
                },
            );
        }
        Sample::Record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_recorded_refusal_per_provider_and_code_per_window() {
        let sampler = RefusalSampler::new(Duration::from_millis(100));
        assert_eq!(
            sampler.admit("esia", "internal.ephemeral", "AAAA"),
            Sample::Record
        );
        for own in ["BBBB", "CCCC", "DDDD"] {
            assert_eq!(
                sampler.admit("esia", "internal.ephemeral", own),
                Sample::Counted {
                    reference: "AAAA".into()
                },
                "the window's recorded reference"
            );
        }
        assert_eq!(
            sampler.admit("esia", "internal.store", "EEEE"),
            Sample::Record,
            "another code has its own window"
        );
        assert_eq!(
            sampler.admit("oidc", "internal.ephemeral", "FFFF"),
            Sample::Record,
            "another provider too"
        );
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(
            sampler.admit("esia", "internal.ephemeral", "GGGG"),
            Sample::Record,
            "the next window records again"
        );
        assert_eq!(
            sampler.admit("esia", "internal.ephemeral", "HHHH"),
            Sample::Counted {
                reference: "GGGG".into()
            }
        );
    }

    #[test]
    fn a_full_table_forgets_closed_windows_and_never_grows_past_its_cap() {
        let sampler = RefusalSampler::new(Duration::from_millis(50));
        for n in 0..KEYS_MAX {
            assert_eq!(
                sampler.admit("esia", &format!("code.{n}"), "AAAA"),
                Sample::Record
            );
        }
        assert_eq!(sampler.admit("esia", "one.more", "BBBB"), Sample::Record);
        let tracked = sampler.windows.lock().map(|w| w.len()).unwrap_or(0);
        assert_eq!(tracked, KEYS_MAX, "recorded, but not tracked");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(sampler.admit("esia", "one.more", "CCCC"), Sample::Record);
        let tracked = sampler.windows.lock().map(|w| w.len()).unwrap_or(0);
        assert_eq!(tracked, 1, "closed windows forgotten");
    }
}
