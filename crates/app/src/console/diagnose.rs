//! "Why can't I log in?": an operator types the reference code from the
//! page the person saw, a diary login or a SNILS, and gets the attempts of
//! that person, what was compared, and what to fix on which side. Every
//! lookup is audited; personal data stays masked unless asked for (and that
//! is audited too).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::console::account_lock::LockRecord;
use crate::shared::{mask_word, required_reason, OperatorRole};
use crate::{AppError, Console};
use ::texts::remedy::{remedy, Facts, Remedy};
use domain::code::ReferenceCode;
use domain::link::OutcomeCode;
use domain::snils::Snils;
use i18n::Lang;
use store::{Account, LinkAttempt, NewAuditEntry};

/// How many attempts a lookup shows at most.
const TIMELINE: i64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    Reference,
    Snils,
    Login,
}

/// What a lookup of `query` that found nothing says. A query that reads
/// as a reference code is told where else such a code may be; the choice
/// depends on the query's shape alone, so it tells nothing about people
/// outside the operator's scope.
pub fn nothing_found(query: &str, lang: Lang) -> &'static str {
    if ReferenceCode::parse(query).is_none() {
        return lang.pick("Ничего не найдено.", "Nothing found.");
    }
    lang.pick(
        "Ничего не найдено. Если это код обращения: попытка входа записывается с задержкой до 0,2 с — если код получен только что, повторите поиск; коды со страниц ошибок (временная ошибка, устаревшая форма) в базе не хранятся — ищите их в журнале сервиса по полю reference.",
        "Nothing found. If this is a reference code: a login attempt is written up to 0.2 s later, so search again if the code is brand new; codes from error pages (a temporary error, a stale form) are not stored: look them up in the service log by the reference field.",
    )
}

#[derive(Debug, Serialize)]
pub struct Diagnosis {
    pub query: QueryKind,
    /// Nothing matched the query.
    pub found: bool,
    pub accounts: Vec<AccountView>,
    /// Newest first; the looked-up reference (if any) is marked.
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Serialize)]
pub struct AccountView {
    pub id: Uuid,
    pub role: String,
    pub full_name: String,
    /// The diary login (people are looked up by it).
    pub login: Option<String>,
    pub snils: Option<String>,
    /// The name of the person's school (`None`: a trusted person, who has none).
    pub school: Option<String>,
    pub status: String,
    /// Who locked the account, when and why (a `blocked` account whose
    /// lock was audited).
    pub lock: Option<LockRecord>,
    pub identities: Vec<IdentityView>,
}

#[derive(Debug, Serialize)]
pub struct IdentityView {
    pub provider: String,
    pub subject: String,
    pub linked_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct AttemptView {
    pub reference: String,
    pub looked_up: bool,
    pub at: DateTime<Utc>,
    pub provider: String,
    pub outcome: String,
    pub tier: Option<String>,
    pub tier_known: Option<bool>,
    pub region: Option<i64>,
    pub error_code: Option<String>,
    /// The masked comparison the attempt recorded (name parts, SNILS).
    pub details: Value,
    pub remedy: Remedy,
}

impl Console<'_> {
    /// An operator removes the link between an account and its identity at
    /// `provider` (e.g. the person lost the State Services account the diary
    /// was linked to). A reason is required and goes to the audit log.
    pub async fn unlink(
        &self,
        actor: &str,
        account_id: Uuid,
        provider: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        self.unlink_in(actor, None, account_id, provider, reason)
            .await
    }

    /// [`App::unlink`] limited to the accounts of `scope` (a school), if any.
    async fn unlink_in(
        &self,
        actor: &str,
        scope: Option<Uuid>,
        account_id: Uuid,
        provider: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        let reason = required_reason(reason)?;
        if scope.is_some() {
            self.account_in_scope(account_id, scope).await?;
        }
        let link = self
            .store
            .find_link_for_account(provider, account_id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.store.delete_link(link.id, actor, reason).await?;
        // Signed in through the identity just unlinked: those sessions, and
        // the apps' grants made in them, end.
        self.end_all_sessions(account_id, actor, "unlinked").await?;
        tracing::info!(actor, account = %account_id, provider, "link removed by an operator");
        Ok(())
    }

    /// The console's unlink: the session behind `cookie` must hold an
    /// operator role and the form its CSRF token; the actor recorded is the
    /// operator's account.
    pub async fn operator_unlink(
        &self,
        cookie: Option<&str>,
        csrf: &str,
        account_id: Uuid,
        provider: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        let session = self.account().session(cookie).await?;
        if !ephemeral::sessions::tokens_equal(csrf, &session.data.csrf) {
            return Err(AppError::CsrfMismatch);
        }
        let Some(role) = self.operator_role(&session).await? else {
            return Err(AppError::Forbidden);
        };
        let actor = format!("operator:{}", session.data.account_id);
        self.unlink_in(&actor, role.school(), account_id, provider, reason)
            .await
    }

    /// The operator role of the session's account, if it has one.
    pub async fn operator_role(
        &self,
        session: &crate::shared::Session,
    ) -> Result<Option<OperatorRole>, AppError> {
        let role = self.store.operator_role(session.data.account_id).await?;
        Ok(role.and_then(|(role, school)| OperatorRole::parse(&role, school)))
    }

    /// Looks `query` up (a reference code, a SNILS or a diary login) for
    /// `actor`; `unmask` shows names and SNILS in full.
    pub async fn diagnose(
        &self,
        query: &str,
        actor: &str,
        unmask: bool,
        lang: Lang,
    ) -> Result<Diagnosis, AppError> {
        self.diagnose_in(query, actor, unmask, None, lang).await
    }

    /// [`App::diagnose`] limited to the people of `scope` (a school), if
    /// any: accounts of other schools, and attempts not tied to an account
    /// of the school, are left out as if they did not exist.
    pub(crate) async fn diagnose_in(
        &self,
        query: &str,
        actor: &str,
        unmask: bool,
        scope: Option<Uuid>,
        lang: Lang,
    ) -> Result<Diagnosis, AppError> {
        let query = query.trim();
        // A diary login may read as a reference code too (`testov.tt`):
        // a reference that matches no attempt is tried as a login.
        let shaped_as_reference = ReferenceCode::parse(query);
        let looked_up = match &shaped_as_reference {
            Some(reference) => {
                self.store
                    .find_attempt_by_reference(reference.as_str())
                    .await?
            }
            None => None,
        };
        let (kind, mut attempts, mut accounts) = if let Some(attempt) = looked_up {
            let mut timeline = self.same_person(&attempt).await?;
            if !timeline.iter().any(|a| a.id == attempt.id) {
                timeline.insert(0, attempt.clone());
            }
            let accounts = match attempt.account_id {
                Some(id) => vec![self.store.get_account(id).await?],
                None => Vec::new(),
            };
            (QueryKind::Reference, timeline, accounts)
        } else if let Ok(snils) = Snils::parse(query) {
            let hash = self.lookup_hash("snils", snils.digits());
            let attempts = self.store.attempts_by_snils_hash(&hash, TIMELINE).await?;
            let accounts = self.store.find_accounts_by_snils(snils.digits()).await?;
            (QueryKind::Snils, attempts, accounts)
        } else {
            match self.store.find_account_by_login(query).await? {
                Some(account) => {
                    let attempts = self
                        .store
                        .attempts_for_account(account.id, TIMELINE)
                        .await?;
                    (QueryKind::Login, attempts, vec![account])
                }
                None if shaped_as_reference.is_some() => {
                    (QueryKind::Reference, Vec::new(), Vec::new())
                }
                None => (QueryKind::Login, Vec::new(), Vec::new()),
            }
        };

        if let Some(school) = scope {
            accounts.retain(|a| a.school_id == Some(school));
            let mut of_school: HashSet<Uuid> = accounts.iter().map(|a| a.id).collect();
            let mut elsewhere: HashSet<Uuid> = HashSet::new();
            for id in attempts.iter().filter_map(|a| a.account_id) {
                if of_school.contains(&id) || elsewhere.contains(&id) {
                    continue;
                }
                match self.account_in_scope(id, scope).await {
                    Ok(_) => of_school.insert(id),
                    Err(AppError::NotFound) => elsewhere.insert(id),
                    Err(e) => return Err(e),
                };
            }
            attempts.retain(|a| a.account_id.is_some_and(|id| of_school.contains(&id)));
        }

        self.store
            .append_audit(&NewAuditEntry {
                actor: actor.to_string(),
                action: if unmask {
                    "diagnose.lookup_unmasked".into()
                } else {
                    "diagnose.lookup".into()
                },
                target_kind: "diagnosis".into(),
                // The query itself may be a SNILS: only its kind is kept.
                target_id: format!("{kind:?}").to_lowercase(),
                reason: None,
                details: serde_json::json!({
                    "attempts": attempts.len(),
                    "accounts": accounts.iter().map(|a| a.id).collect::<Vec<_>>(),
                    "school_scope": scope,
                }),
            })
            .await?;

        let mut account_views = Vec::with_capacity(accounts.len());
        for account in &accounts {
            account_views.push(self.account_view(account, unmask, scope).await?);
        }
        let reference = shaped_as_reference.map(|r| r.as_str().to_string());
        let mut attempt_views = Vec::with_capacity(attempts.len());
        for attempt in attempts {
            let linked_subject = match (attempt.outcome.as_str(), attempt.account_id) {
                ("linked_elsewhere", Some(account)) => self
                    .store
                    .find_link_for_account(&attempt.provider, account)
                    .await?
                    .map(|link| federation::mask_subject(&link.subject)),
                _ => None,
            };
            attempt_views.push(attempt_view(
                attempt,
                reference.as_deref(),
                linked_subject.as_deref(),
                lang,
            ));
        }
        Ok(Diagnosis {
            query: kind,
            found: !account_views.is_empty() || !attempt_views.is_empty(),
            accounts: account_views,
            attempts: attempt_views,
        })
    }

    /// Attempts of the same person: same identity, else same SNILS, else
    /// same account.
    async fn same_person(&self, attempt: &LinkAttempt) -> Result<Vec<LinkAttempt>, AppError> {
        Ok(
            match (
                &attempt.subject_hash,
                &attempt.snils_hash,
                attempt.account_id,
            ) {
                (Some(hash), _, _) => self.store.attempts_by_subject_hash(hash, TIMELINE).await?,
                (None, Some(hash), _) => self.store.attempts_by_snils_hash(hash, TIMELINE).await?,
                (None, None, Some(account)) => {
                    self.store.attempts_for_account(account, TIMELINE).await?
                }
                (None, None, None) => Vec::new(),
            },
        )
    }

    async fn account_view(
        &self,
        account: &Account,
        unmask: bool,
        scope: Option<Uuid>,
    ) -> Result<AccountView, AppError> {
        let links = self.store.links_for_account(account.id).await?;
        let full_name = [
            Some(account.surname.as_str()),
            Some(account.given_name.as_str()),
            account.patronymic.as_deref(),
        ]
        .into_iter()
        .flatten()
        .map(|part| {
            if unmask {
                part.to_string()
            } else {
                mask_word(part)
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
        let snils = account
            .snils
            .as_deref()
            .map(|digits| match Snils::parse(digits) {
                Ok(snils) if unmask => snils.to_string(),
                Ok(snils) => snils.masked(),
                Err(_) => "(invalid)".into(),
            });
        let school = match account.school_id {
            Some(id) => Some(self.store.get_school(id).await?.name),
            None => None,
        };
        let lock = if account.status == "blocked" {
            self.lock_shown(account.id, scope).await?
        } else {
            None
        };
        Ok(AccountView {
            id: account.id,
            role: account.role.clone(),
            full_name,
            login: account.login.clone(),
            snils,
            school,
            status: account.status.clone(),
            lock,
            identities: links
                .into_iter()
                .map(|link| IdentityView {
                    provider: link.provider,
                    subject: if unmask {
                        link.subject
                    } else {
                        federation::mask_subject(&link.subject)
                    },
                    linked_at: link.linked_at,
                    last_login_at: link.last_login_at,
                })
                .collect(),
        })
    }
}

fn attempt_view(
    attempt: LinkAttempt,
    reference: Option<&str>,
    linked_subject: Option<&str>,
    lang: Lang,
) -> AttemptView {
    let outcome = OutcomeCode::parse(&attempt.outcome).unwrap_or(OutcomeCode::Rejected);
    let remedy = remedy(
        outcome,
        &Facts {
            details: Some(&attempt.details),
            error_code: attempt.idp_error.as_deref(),
            region: attempt.region_code,
            linked_subject,
        },
        lang,
    );
    AttemptView {
        looked_up: reference == Some(attempt.reference_code.as_str()),
        tier_known: attempt.details.get("tier_known").and_then(Value::as_bool),
        reference: attempt.reference_code,
        at: attempt.created_at,
        provider: attempt.provider,
        outcome: attempt.outcome,
        tier: attempt.tier,
        region: attempt.region_code,
        error_code: attempt.idp_error,
        details: attempt.details,
        remedy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_the_first_letter_and_hyphens() {
        assert_eq!(mask_word("Иванова"), "И******");
        assert_eq!(mask_word("Римская-Корсакова"), "Р******-*********");
        assert_eq!(mask_word(""), "");
    }
}
