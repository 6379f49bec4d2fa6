//! The crate's tests in one binary: declension tables, gender, odd input.

// A test harness may panic: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod declension;
mod gender;
mod odd_inputs;
