//! Invitation sheets: what a person is handed with their activation code.
//! [`sheets`] says it as printable HTML, [`pdf`] as a PDF — one A4 page per
//! person, optionally after a cover page listing who receives which sheet
//! with a column to sign against (a class packet).
//!
//! Shared by the command line (`esia-link codes issue`) and the school
//! console (`/school`), hence a crate of its own.

pub mod packet;
pub mod pdf;
pub mod sheets;
