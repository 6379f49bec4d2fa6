//! An operator locks (blocks) an account and unlocks it again: a stolen
//! phone, a person who left the school, an account under dispute. A lock
//! ends every session of the account and the grants of the diary's apps
//! (they hear it by back-channel logout); while it lasts, no way in works:
//! State Services, the password, an activation code.
//!
//! Unlocking puts back the status the account had when it was locked
//! (`pending` or `active`), read from the lock's own audit row. An account
//! blocked without one (by hand in the database) goes back to `active` if
//! it has a password and a confirmed e-mail, else to `pending`: the
//! activation wizard or the next State Services login goes on from there.
//!
//! Each needs an operator role and a reason, is audited in the status
//! change's own transaction, and a school administrator acts only on
//! people of their own school.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::access_cache::Invalidation;
use crate::console::actions::Operator;
use crate::shared::required_reason;
use crate::{AppError, Console};
use store::{Account, AuditFilter, NewAuditEntry, StoreError};

/// The audit actions of a lock and an unlock.
pub const LOCKED: &str = "account.locked";
pub const UNLOCKED: &str = "account.unlocked";

const BLOCKED: &str = "blocked";

/// What became of a lock or unlock request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockChange {
    /// The status changed (audited).
    Done,
    /// The account is locked already (a lock), or not locked (an unlock):
    /// nothing written.
    Unchanged,
    /// An operator's own account: another operator locks it (a lock would
    /// end the very session asking for it, and leave nobody to undo it).
    OwnAccount,
}

/// Who locked an account, when and why: the lock's audit row.
#[derive(Debug, Clone, Serialize)]
pub struct LockRecord {
    /// The audit log's actor (`operator:{account id}`, `cli:...`); in
    /// the console, an operator's login and masked name.
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
    /// The status the account had before (`pending` or `active`).
    pub previous_status: Option<String>,
}

impl Console<'_> {
    /// The console's lock (`locked`) or unlock: a session with an
    /// operator role and the form's CSRF token, as for unlink.
    pub async fn operator_set_lock(
        &self,
        cookie: Option<&str>,
        csrf: &str,
        account_id: Uuid,
        reason: &str,
        locked: bool,
    ) -> Result<LockChange, AppError> {
        let operator = self.acting_operator(cookie, csrf).await?;
        if locked {
            self.lock_account(&operator, account_id, reason).await
        } else {
            self.unlock_account(&operator, account_id, reason).await
        }
    }

    /// Locks `account_id`: status `blocked`, every session and app grant
    /// ended (back-channel logouts queued), cached access dropped.
    pub async fn lock_account(
        &self,
        operator: &Operator,
        account_id: Uuid,
        reason: &str,
    ) -> Result<LockChange, AppError> {
        let reason = required_reason(reason)?;
        let account = self
            .account_in_scope(account_id, operator.role.school())
            .await?;
        if operator.actor == format!("operator:{account_id}") {
            return Ok(LockChange::OwnAccount);
        }
        if account.status == BLOCKED {
            return Ok(LockChange::Unchanged);
        }
        let entry = lock_entry(
            operator,
            LOCKED,
            account_id,
            reason,
            json!({ "previous_status": account.status }),
        );
        self.change_status(&account, BLOCKED, &entry).await?;
        self.end_all_sessions(account_id, &operator.actor, "account locked")
            .await?;
        self.access_changed(&account_invalidations(account_id))
            .await;
        tracing::info!(actor = %operator.actor, account = %account_id, "account locked by an operator");
        Ok(LockChange::Done)
    }

    /// Unlocks `account_id`: back to the status it had when locked.
    pub async fn unlock_account(
        &self,
        operator: &Operator,
        account_id: Uuid,
        reason: &str,
    ) -> Result<LockChange, AppError> {
        let reason = required_reason(reason)?;
        let account = self
            .account_in_scope(account_id, operator.role.school())
            .await?;
        if account.status != BLOCKED {
            return Ok(LockChange::Unchanged);
        }
        let lock = self.lock_record(account_id).await?;
        let status = status_after_unlock(&account, lock.as_ref());
        let entry = lock_entry(
            operator,
            UNLOCKED,
            account_id,
            reason,
            json!({ "status": status }),
        );
        self.change_status(&account, status, &entry).await?;
        self.access_changed(&account_invalidations(account_id))
            .await;
        tracing::info!(actor = %operator.actor, account = %account_id, status, "account unlocked by an operator");
        Ok(LockChange::Done)
    }

    /// The latest lock of the account, if its audit row exists.
    pub(crate) async fn lock_record(
        &self,
        account_id: Uuid,
    ) -> Result<Option<LockRecord>, AppError> {
        let rows = self
            .store
            .audit_entries(&AuditFilter {
                action: Some(LOCKED.into()),
                target_id: Some(account_id.to_string()),
                limit: 1,
                ..AuditFilter::default()
            })
            .await?;
        Ok(rows.into_iter().next().map(|row| LockRecord {
            previous_status: row
                .details
                .get("previous_status")
                .and_then(|s| s.as_str())
                .map(str::to_string),
            by: row.actor,
            at: row.at,
            reason: row.reason,
        }))
    }

    /// The latest lock as the console shows it: an operator named by
    /// login and masked name when they are within `scope`, else by the
    /// audit log's actor.
    pub(crate) async fn lock_shown(
        &self,
        account_id: Uuid,
        scope: Option<Uuid>,
    ) -> Result<Option<LockRecord>, AppError> {
        let Some(mut lock) = self.lock_record(account_id).await? else {
            return Ok(None);
        };
        let operator = lock
            .by
            .strip_prefix("operator:")
            .and_then(|id| Uuid::parse_str(id).ok());
        if let Some(id) = operator {
            if let Some(label) = self.person_labels([id], scope).await?.remove(&id) {
                lock.by = match label.login {
                    Some(login) => format!("{login} ({})", label.name),
                    None => label.name,
                };
            }
        }
        Ok(Some(lock))
    }

    /// The status change and its audit row; another change in between
    /// (the status read is not the stored one any more) is `NotFound`.
    async fn change_status(
        &self,
        account: &Account,
        to: &str,
        entry: &NewAuditEntry,
    ) -> Result<(), AppError> {
        match self
            .store
            .change_account_status(account.id, &account.status, to, entry)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}

/// The status an unlocked account goes back to (see the module's notes).
fn status_after_unlock(account: &Account, lock: Option<&LockRecord>) -> &'static str {
    match lock.and_then(|l| l.previous_status.as_deref()) {
        Some("active") => "active",
        Some("pending") => "pending",
        _ if account.password_hash.is_some() && account.email_verified => "active",
        _ => "pending",
    }
}

/// The audit row of a lock or an unlock of `account_id`.
fn lock_entry(
    operator: &Operator,
    action: &str,
    account_id: Uuid,
    reason: &str,
    details: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        actor: operator.actor.clone(),
        action: action.into(),
        target_kind: "account".into(),
        target_id: account_id.to_string(),
        reason: Some(reason.to_string()),
        details,
    }
}

/// What a lock or an unlock changes in cached access: the account as a
/// viewer and as a pupil.
fn account_invalidations(account_id: Uuid) -> [Invalidation; 2] {
    [
        Invalidation::Viewer(account_id),
        Invalidation::Pupil(account_id),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(password: bool, email_verified: bool) -> Account {
        Account {
            id: Uuid::nil(),
            school_id: None,
            role: "parent".into(),
            surname: "Зайцева".into(),
            given_name: "Анна".into(),
            patronymic: None,
            birth_date: None,
            snils: None,
            login: None,
            password_hash: password.then(|| "$argon2id$...".into()),
            status: BLOCKED.into(),
            email: None,
            email_verified,
            phone: None,
            phone_verified: false,
            login_changed: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn lock(previous: Option<&str>) -> LockRecord {
        LockRecord {
            by: "operator:test".into(),
            at: Utc::now(),
            reason: None,
            previous_status: previous.map(str::to_string),
        }
    }

    #[test]
    fn an_unlock_puts_back_the_status_before_the_lock() {
        let cases = [
            (
                "locked when active",
                account(false, false),
                Some(lock(Some("active"))),
                "active",
            ),
            (
                "locked when pending",
                account(true, true),
                Some(lock(Some("pending"))),
                "pending",
            ),
            (
                "no lock row, activated",
                account(true, true),
                None,
                "active",
            ),
            (
                "no lock row, e-mail unconfirmed",
                account(true, false),
                None,
                "pending",
            ),
            (
                "no lock row, no password",
                account(false, true),
                None,
                "pending",
            ),
            (
                "an unreadable lock row",
                account(true, true),
                Some(lock(Some("blocked"))),
                "active",
            ),
        ];
        for (why, account, lock, expected) in cases {
            assert_eq!(
                status_after_unlock(&account, lock.as_ref()),
                expected,
                "{why}"
            );
        }
    }
}
