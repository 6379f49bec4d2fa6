//! The one integration-test binary of the service (one binary keeps link
//! time down). Modules share the harness in `helpers`.

// A test harness may panic: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account_lock;
mod activation;
mod apps;
mod apps_demo;
mod apps_refusals;
mod backends;
mod chromium;
mod cli;
mod credentials;
mod demo;
mod diagnose;
mod ephemeral;
mod fallback_code;
mod family;
mod faults;
mod helpers;
mod hostile;
mod kids;
mod login;
mod operator_actions;
mod outage;
mod pdf_qr;
mod recovery;
mod school;
mod school_api_xlsx;
mod school_bench;
mod school_console;
mod school_jobs;
mod sentinel;
mod spec_rules;
mod store;
