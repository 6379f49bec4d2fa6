//! esia-link: log in to a school e-diary via State Services (ESIA) or any
//! OIDC provider, and link the federated identity to the diary account by
//! full name + SNILS.
//!
//! Layers, from the inside out:
//! - [`domain`]: pure rules (SNILS, names, tiers, the link decision, codes);
//! - [`store`]: durable data in SQLite or PostgreSQL;
//! - [`ephemeral`]: login transactions, sessions, rate limits (memory or Redis);
//! - [`federation`]: talking to identity providers;
//! - [`web`]: pages, JSON API and the route map;
//! - [`ops`]: operator and administrator tools (demo seeding, CLI helpers).

pub mod cli;
pub mod config;
pub mod domain;
pub mod ephemeral;
pub mod federation;
pub mod i18n;
pub mod logging;
pub mod login;
pub mod ops;
pub mod startup;
pub mod store;
pub mod web;
