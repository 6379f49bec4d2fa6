//! The mock IdP's protocol tests (one binary): the ESIA flow end to end,
//! every listed error code, every fault, the OIDC profile and key rotation.

mod errors;
mod esia_flow;
mod faults;
mod kit;
mod oidc_flow;
