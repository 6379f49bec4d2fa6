//! The mock IdP's protocol tests (one binary): the ESIA flow end to end,
//! every listed error code, every fault, the OIDC profile and key rotation,
//! what real ESIA does (`esia_real`) and a person's kids (`kids`).

// A test harness may panic: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod errors;
mod esia_flow;
mod esia_real;
mod faults;
mod hostile;
mod kids;
mod kit;
mod oidc_flow;
