//! Parent-child links, trusted-person invitations and the notification
//! centre, by table group: [`relationships`] (a school's parent→pupil links),
//! [`invitations`] (a parent's invitations of trusted persons),
//! [`notifications`] (the notification centre), [`access`] (who the viewer
//! is and which pupils they are tied to) and [`trusted`] (trusted persons'
//! lightweight accounts). Here: the person as family pages show them, and
//! the row helpers the groups share.
//!
//! Every change writes its audit row and its notifications in the same
//! transaction; state changes are conditional on the state the use case
//! decided from, so a concurrent answer loses cleanly (`Ok(false)`).
//!
//! Times are passed in by the caller (the application's clock), so tests
//! can move time without sleeping.

mod access;
mod invitations;
mod notifications;
mod relationships;
mod trusted;

#[cfg(test)]
mod tests;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{opt_date_col, opt_uuid_col, to_time, uuid_col, Columns, StoreError};

pub use access::{AccessTarget, FamilyTie, GrantRow, GrantTie, LinkTie, ViewerRecord, ViewerTies};
pub use invitations::{InvitationChange, InvitationRecord, NewInvitation};
pub use notifications::{NewNotification, NotificationRecord};
pub use relationships::RelationshipRecord;
pub use trusted::NewTrustedAccount;

/// A person as family pages show them (no contacts).
#[derive(Clone)]
pub struct PersonBrief {
    pub id: Uuid,
    pub role: String,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub snils: Option<String>,
    pub school_id: Option<Uuid>,
    pub school_name: Option<String>,
    pub class_name: Option<String>,
}

impl PersonBrief {
    /// «Новиков Максим Андреевич».
    pub fn display_name(&self) -> String {
        match &self.patronymic {
            Some(p) => format!("{} {} {p}", self.surname, self.given_name),
            None => format!("{} {}", self.surname, self.given_name),
        }
    }
}

/// No names or SNILS in logs.
impl fmt::Debug for PersonBrief {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonBrief")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("school_id", &self.school_id)
            .finish_non_exhaustive()
    }
}

/// `p.id AS p_id, ...` for an account aliased `a` joined to its school `s`.
pub(super) fn brief_columns(a: &str, s: &str, prefix: &str) -> String {
    [
        "id",
        "role",
        "surname",
        "given_name",
        "patronymic",
        "birth_date",
        "snils",
        "school_id",
        "class_name",
    ]
    .iter()
    .map(|c| format!("{a}.{c} AS {prefix}{c}"))
    .chain(std::iter::once(format!("{s}.name AS {prefix}school_name")))
    .collect::<Vec<_>>()
    .join(", ")
}

pub(super) fn brief_from(
    row: &(impl Columns + ?Sized),
    prefix: &str,
) -> Result<PersonBrief, StoreError> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(PersonBrief {
        id: uuid_col(row, &col("id"))?,
        role: row.required_text(&col("role"))?,
        surname: row.required_text(&col("surname"))?,
        given_name: row.required_text(&col("given_name"))?,
        patronymic: row.text(&col("patronymic"))?,
        birth_date: opt_date_col(row, &col("birth_date"))?,
        snils: row.text(&col("snils"))?,
        school_id: opt_uuid_col(row, &col("school_id"))?,
        school_name: row.text(&col("school_name"))?,
        class_name: row.text(&col("class_name"))?,
    })
}

fn opt_time(
    row: &(impl Columns + ?Sized),
    column: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(row.int(column)?.map(to_time))
}
