//! Operator and administrator tools: roster seeding, `diagnose`.

pub mod diagnose;
pub mod roster;
