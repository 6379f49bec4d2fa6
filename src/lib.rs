//! esia-link: log in to a school e-diary via State Services (ESIA) or any
//! OIDC provider, and link the federated identity to the diary account by
//! full name + SNILS.
//!
//! This crate is the binary's own code: the command line ([`cli`]), the
//! tools operators and schools run ([`ops`]), [`startup`] (which assembles
//! the layers into a running service) and, with the `demo` feature, the
//! demo, the benchmarks and the scripted browser. The layers are crates of
//! their own, so that the compiler keeps their direction:
//!
//! ```text
//! web ──► app ──► federation ──► config ──► notify
//!          │  ├─► store            │
//!          │  ├─► ephemeral        ▼
//!          │  └─► i18n           domain   (depends on nothing)
//!          └────────────────────► domain
//! ```
//!
//! They are re-exported here under their short names for the tests and the
//! tools.

pub use ::app;
pub use ::config;
pub use ::domain;
pub use ::ephemeral;
pub use ::federation;
pub use ::i18n;
pub use ::notify;
pub use ::store;
pub use ::texts;
pub use ::web;

pub mod cli;
#[cfg(feature = "demo")]
pub mod demo;
pub mod logging;
pub mod ops;
pub mod startup;
