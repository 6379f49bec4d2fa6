//! Operator and administrator tools: the demo, roster seeding, benchmarks.

pub mod bench;
pub mod browser;
pub mod demo;
pub mod roster;
