//! Operator and administrator tools: roster seeding and import, codes and
//! invitation sheets, `diagnose`, `report`,
//! `audit`, `config show`.

pub mod audit;
pub mod config_show;
pub mod diagnose;
pub mod report;
pub mod roster;
pub mod school;
pub mod sheets;
pub mod sheets_pdf;
