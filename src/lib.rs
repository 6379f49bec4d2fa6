//! esia-link: log in to a school e-diary via State Services (ESIA) or any
//! OIDC provider, and link the federated identity to the diary account by
//! full name + SNILS.
//!
//! Layers, from the inside out:
//! - [`domain`]: pure rules (SNILS, names, tiers, the link decision, codes);
//! - [`store`]: durable data in SQLite or PostgreSQL;
//! - [`ephemeral`]: login transactions, sessions, rate limits (memory or Redis);
//! - [`federation`]: talking to identity providers;
//! - [`app`]: the use cases (login, account), over the layers above;
//! - [`web`]: pages, JSON API and the route map; calls [`app`] only;
//! - [`ops`]: operator and administrator tools;
//! - [`startup`]: builds the [`app::App`] context and the router;
//! - `demo` (cargo feature `demo`, on by default): the demo, benchmarks and
//!   scripted browser with the mock IdP; absent from production builds.
//!
//! Dependencies point one way: web → app → (federation, domain, store,
//! ephemeral); startup → (app, web); domain depends on nothing.

pub mod app;
pub mod cli;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod domain;
pub mod ephemeral;
pub mod federation;
pub mod i18n;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod ops;
pub mod startup;
pub mod store;
pub mod web;
