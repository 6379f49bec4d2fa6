//! Who the viewer is, and every tie of theirs to pupils: the parent links
//! they hold or are named in, and the trusted-person grants they received.

use std::fmt;

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{brief_columns, brief_from, opt_time, PersonBrief};
use crate::sqlite_reads::FixedRead;
use crate::{flag_col, opt_uuid_col, to_time, uuid_col, Store, StoreError};

/// The logged-in person, with what invitations are matched by.
#[derive(Clone)]
pub struct ViewerRecord {
    pub person: PersonBrief,
    pub phone: Option<String>,
    pub phone_verified: bool,
    /// The region of the person's school: its clock is the one their
    /// pages show times by.
    pub region: Option<i64>,
}

impl fmt::Debug for ViewerRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViewerRecord")
            .field("person", &self.person)
            .field("has_phone", &self.phone.is_some())
            .finish_non_exhaustive()
    }
}

/// The account an access check asks about: its role and school (`role`
/// `None`: there is no such account).
#[derive(Debug, Clone, Default)]
pub struct AccessTarget {
    pub role: Option<String>,
    pub school: Option<Uuid>,
}

/// Every tie of a viewer to pupils: the parent links it holds or is named
/// in, and the grants it received. A handful for a parent, none for most.
#[derive(Debug, Clone, Default)]
pub struct ViewerTies {
    pub links: Vec<LinkTie>,
    pub grants: Vec<GrantTie>,
    /// An operator locked the viewer's account: it sees nothing.
    pub blocked: bool,
}

#[derive(Debug, Clone)]
pub struct LinkTie {
    pub pupil: Uuid,
    pub status: String,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct GrantTie {
    pub pupil: Uuid,
    pub row: GrantRow,
}

impl ViewerTies {
    /// The pupils these ties are about (with repeats).
    pub fn pupils(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.links
            .iter()
            .map(|l| l.pupil)
            .chain(self.grants.iter().map(|g| g.pupil))
    }
}

#[derive(Debug, Clone)]
pub struct GrantRow {
    pub status: String,
    pub opens_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub services: String,
    pub relationship_status: String,
}

/// How a pupil is tied to the viewer.
#[derive(Debug, Clone)]
pub enum FamilyTie {
    Link {
        relationship_id: Uuid,
        since: Option<DateTime<Utc>>,
    },
    Grant {
        invitation_id: Uuid,
        row: GrantRow,
    },
}

impl Store {
    /// The account behind a session, with its school. On a SQLite file it
    /// runs on the calling thread (`sqlite_reads`): every app sign-in reads
    /// it twice.
    pub async fn family_viewer(&self, account_id: Uuid) -> Result<ViewerRecord, StoreError> {
        static VIEWER: FixedRead = FixedRead::new(|| {
            format!(
                "SELECT {}, a.phone, a.phone_verified, s.region_code
                 FROM accounts a LEFT JOIN schools s ON s.id = a.school_id WHERE a.id = $1",
                brief_columns("a", "s", "")
            )
        });
        let rows = self
            .read_rows(&VIEWER, &[&account_id.to_string()], |row| {
                Ok(ViewerRecord {
                    person: brief_from(row, "")?,
                    phone: row.text("phone")?,
                    phone_verified: flag_col(row, "phone_verified")?,
                    region: row.int("region_code")?,
                })
            })
            .await?;
        rows.into_iter().next().ok_or(StoreError::NotFound)
    }

    /// Everything an access check needs: the target account, and every
    /// tie of the viewer (to any pupil, so that one read serves the
    /// viewer's later checks from the access cache). One statement.
    pub async fn access_facts(
        &self,
        viewer: Uuid,
        target: Uuid,
    ) -> Result<(AccessTarget, ViewerTies), StoreError> {
        let rows = sqlx::query(
            "SELECT 'target' AS kind, a.id AS pupil_id, a.role AS status,
                    CAST(NULL AS BIGINT) AS t1, CAST(NULL AS BIGINT) AS t2,
                    CAST(NULL AS TEXT) AS services, CAST(NULL AS TEXT) AS link_status,
                    a.school_id AS target_school
             FROM accounts a WHERE a.id = $2
             UNION ALL
             SELECT 'link', r.pupil_id, r.status, r.decided_at, CAST(NULL AS BIGINT),
                    CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT)
             FROM relationships r WHERE r.holder_id = $1 OR r.parent_id = $1
             UNION ALL
             SELECT 'grant', i.pupil_id, i.status, i.opens_at, i.expires_at, i.services,
                    r.status, CAST(NULL AS TEXT)
             FROM invitations i JOIN relationships r ON r.id = i.relationship_id
             WHERE i.grantee_id = $1
             UNION ALL
             SELECT 'blocked', a.id, a.status, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT),
                    CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT)
             FROM accounts a WHERE a.id = $1 AND a.status = 'blocked'",
        )
        .bind(viewer.to_string())
        .bind(target.to_string())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        let (mut found, mut ties) = (AccessTarget::default(), ViewerTies::default());
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let status: String = row.try_get("status")?;
            let pupil = uuid_col(&row, "pupil_id")?;
            match kind.as_str() {
                "target" => {
                    found.role = Some(status);
                    found.school = opt_uuid_col(&row, "target_school")?;
                }
                "blocked" => ties.blocked = true,
                "link" => ties.links.push(LinkTie {
                    pupil,
                    status,
                    decided_at: opt_time(&row, "t1")?,
                }),
                _ => ties.grants.push(GrantTie {
                    pupil,
                    row: GrantRow {
                        status,
                        opens_at: opt_time(&row, "t1")?,
                        expires_at: opt_time(&row, "t2")?.unwrap_or_else(|| to_time(0)),
                        services: row
                            .try_get::<Option<String>, _>("services")?
                            .unwrap_or_default(),
                        relationship_status: row
                            .try_get::<Option<String>, _>("link_status")?
                            .unwrap_or_default(),
                    },
                }),
            }
        }
        Ok((found, ties))
    }

    /// The pupils linked to the viewer by a confirmed link or an accepted
    /// invitation (the caller decides what is open), with the pupil's
    /// details: (pupil, link or grant). On a SQLite file it runs on the
    /// calling thread, as [`Store::family_viewer`] does.
    pub async fn family_pupils(
        &self,
        viewer: Uuid,
    ) -> Result<Vec<(PersonBrief, FamilyTie)>, StoreError> {
        static PUPILS: FixedRead = FixedRead::new(|| {
            format!(
                "SELECT 'link' AS kind, r.status, r.decided_at AS t1, CAST(NULL AS BIGINT) AS t2,
                        CAST(NULL AS TEXT) AS services, CAST(NULL AS TEXT) AS link_status,
                        r.id AS tie_id, {c}
                 FROM relationships r
                 JOIN accounts c ON c.id = r.pupil_id LEFT JOIN schools cs ON cs.id = c.school_id
                 WHERE (r.holder_id = $1 OR r.parent_id = $1) AND r.status = 'confirmed'
                 UNION ALL
                 SELECT 'grant', i.status, i.opens_at, i.expires_at, i.services, r.status, i.id, {c}
                 FROM invitations i JOIN relationships r ON r.id = i.relationship_id
                 JOIN accounts c ON c.id = i.pupil_id LEFT JOIN schools cs ON cs.id = c.school_id
                 WHERE i.grantee_id = $1 AND i.status = 'accepted'",
                c = brief_columns("c", "cs", "c_")
            )
        });
        self.read_rows(&PUPILS, &[&viewer.to_string()], |row| {
            let tie = if row.required_text("kind")? == "link" {
                FamilyTie::Link {
                    relationship_id: uuid_col(row, "tie_id")?,
                    since: opt_time(row, "t1")?,
                }
            } else {
                FamilyTie::Grant {
                    invitation_id: uuid_col(row, "tie_id")?,
                    row: GrantRow {
                        status: row.required_text("status")?,
                        opens_at: opt_time(row, "t1")?,
                        expires_at: opt_time(row, "t2")?.unwrap_or_else(|| to_time(0)),
                        services: row.text("services")?.unwrap_or_default(),
                        relationship_status: row.text("link_status")?.unwrap_or_default(),
                    },
                }
            };
            Ok((brief_from(row, "c_")?, tie))
        })
        .await
    }
}
