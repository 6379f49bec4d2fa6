//! The one integration-test binary of the service (one binary keeps link
//! time down). Modules share the harness in `helpers`.

mod backends;
mod chromium;
mod cli;
mod diagnose;
mod ephemeral;
mod faults;
mod helpers;
mod hostile;
mod login;
mod store;
