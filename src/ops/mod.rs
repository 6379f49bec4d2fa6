//! Operator and administrator tools: roster seeding and import, codes and
//! invitation sheets, `diagnose`, `report`,
//! `audit`.

pub mod audit;
pub mod diagnose;
pub mod report;
pub mod roster;
pub mod school;
pub use invitations::{pdf as sheets_pdf, sheets};
