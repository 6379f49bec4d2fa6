//! Operator and administrator tools (roster seeding now; diagnosis later).

pub mod roster;
