//! Operator and administrator tools: roster seeding, `diagnose`, `report`,
//! `audit`.

pub mod audit;
pub mod diagnose;
pub mod report;
pub mod roster;
