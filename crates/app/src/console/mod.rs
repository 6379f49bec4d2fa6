//! The support console: why a login failed (diagnosis by reference code,
//! login or SNILS, with the remedy), the audit log, the hourly chart, and
//! the operators' audited actions (unlink, relink, corrections, activation
//! resets, relationship confirmations, account locks). School administrators use the same
//! console limited to their school.

pub mod account_lock;
pub mod actions;
pub mod diagnose;
pub mod grants;
pub mod operator_actions;
pub mod people;
