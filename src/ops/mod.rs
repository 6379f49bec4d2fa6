//! Operator and administrator tools: roster seeding, `diagnose`, `report`.

pub mod diagnose;
pub mod report;
pub mod roster;
