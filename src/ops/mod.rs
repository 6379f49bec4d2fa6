//! Operator and administrator tools: roster seeding and import, codes and
//! invitation sheets, `diagnose`, `report`,
//! `audit`, `config show`.

pub mod audit;
pub mod config_show;
pub mod diagnose;
pub mod operator;
pub mod report;
pub mod roster;
pub mod school;
pub use invitations::{pdf as sheets_pdf, sheets};
