//! What operators do in the console besides looking up: move a link to
//! another account, correct a person's data (the person's school only: its
//! administrator here, or its own system through the school API), read the
//! audit log, and watch attempts per hour on the front page.
//!
//! Every change needs a reason and writes its audit row in the change's own
//! transaction, with field names and masked values only. A school
//! administrator acts within their school: anyone else answers as "not
//! found", so that a lookup does not tell whether a person exists elsewhere.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::console::diagnose::Diagnosis;
use crate::console::people::PersonLabel;
use crate::family::NoticeKind;
use crate::shared::{mask_word, required_reason, OperatorRole};
use crate::{AppError, Console};
use ::texts::prelude::*;
use domain::link::OutcomeCode;
use domain::name::{FullName, NameError};
use domain::roster::Column;
use domain::snils::{Snils, SnilsError};
use i18n::Lang;
use store::{Account, AuditEntry, AuditFilter, NewNotification, StoreError};

/// How many audit rows one page of the viewer shows.
pub const AUDIT_PAGE_ROWS: i64 = 200;

/// The chart's window: the current hour and the 23 before it.
const CHART_HOURS: i64 = 24;

const HOUR_MS: i64 = 3_600_000;

/// The operator behind a console request.
pub struct Operator {
    /// How the audit log names them: `operator:{account id}` in the
    /// console, `cli:{user}` for tools.
    pub actor: String,
    pub role: OperatorRole,
    /// The session's CSRF token for the console's forms (empty for tools).
    pub csrf: String,
}

/// What became of a relink request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relinked {
    /// The link now belongs to the other account (audited).
    Moved,
    /// The other account has a link with this provider already: nothing
    /// changed (unlink that one first if it is the wrong one).
    TargetLinked,
    /// Both accounts are the same: nothing to move.
    SameAccount,
}

/// What a school corrects in a person's record; `None` keeps the value.
/// The name is corrected as a whole, as written in the person's documents.
#[derive(Clone, Default)]
pub struct Correction {
    pub name: Option<FullName>,
    pub birth_date: Option<NaiveDate>,
    pub snils: Option<Snils>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    #[error("name: {0}")]
    Name(NameError),
    #[error("{0}")]
    Snils(SnilsError),
    #[error("the birth date must be written YYYY-MM-DD, after 1900 and not in the future")]
    BirthDate,
    #[error("nothing to correct: fill in the fields to change")]
    Empty,
}

impl CorrectionError {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (CorrectionError::Name(e), _) => e.message(lang),
            (CorrectionError::Snils(e), _) => e.message(lang),
            (CorrectionError::BirthDate, Lang::Ru) => {
                "дата рождения записывается как ГГГГ-ММ-ДД, не раньше 1900 года и не в будущем"
                    .into()
            }
            (CorrectionError::Empty, Lang::Ru) => {
                "исправлять нечего: заполните поля, которые нужно изменить".into()
            }
            (error, Lang::En) => error.to_string(),
        }
    }
}

impl Correction {
    /// Reads the console's form. A blank field keeps its value; once any
    /// part of the name is filled, the surname and the given name are
    /// required and a blank patronymic means "none".
    pub fn parse(
        surname: &str,
        given_name: &str,
        patronymic: &str,
        birth_date: &str,
        snils: &str,
    ) -> Result<Correction, CorrectionError> {
        let blank = |text: &str| text.trim().is_empty();
        let name = if [surname, given_name, patronymic].iter().all(|t| blank(t)) {
            None
        } else {
            Some(
                FullName::new(surname, given_name, Some(patronymic))
                    .map_err(CorrectionError::Name)?,
            )
        };
        let birth_date = if blank(birth_date) {
            None
        } else {
            let date = NaiveDate::parse_from_str(birth_date.trim(), "%Y-%m-%d")
                .map_err(|_| CorrectionError::BirthDate)?;
            let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).ok_or(CorrectionError::BirthDate)?;
            if date < earliest || date > Utc::now().date_naive() {
                return Err(CorrectionError::BirthDate);
            }
            Some(date)
        };
        let snils = if blank(snils) {
            None
        } else {
            Some(Snils::parse(snils).map_err(CorrectionError::Snils)?)
        };
        if name.is_none() && birth_date.is_none() && snils.is_none() {
            return Err(CorrectionError::Empty);
        }
        Ok(Correction {
            name,
            birth_date,
            snils,
        })
    }
}

/// What became of a correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corrected {
    /// These fields changed (audited).
    Changed(Vec<&'static str>),
    /// The record already says so: nothing written.
    Unchanged,
}

/// Filters of the audit-log viewer; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    /// The target's id (an account id, a school id, ...).
    pub subject: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Rows strictly before this time.
    pub until: Option<DateTime<Utc>>,
    /// Rows older than this id (the "more" link).
    pub before: Option<i64>,
}

/// One audit row as the viewer shows it.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub reason: Option<String>,
    /// Masked by whoever wrote the row: ids, field names, masked values.
    pub details: Value,
}

/// A page of audit rows, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// The people the rows' actors and account targets are, by account id
    /// (within the operator's school, for a school administrator).
    pub people: HashMap<Uuid, PersonLabel>,
    /// The `before` of the next page, if there are older rows.
    pub more_before: Option<i64>,
}

/// The account an audit row's actor is («operator:ID», «account:ID»).
fn audit_actor_account(actor: &str) -> Option<Uuid> {
    let (kind, id) = actor.split_once(':')?;
    matches!(kind, "operator" | "account")
        .then(|| Uuid::parse_str(id).ok())
        .flatten()
}

/// The account an audit row is about, if it is about one.
fn audit_target_account(entry: &AuditEntry) -> Option<Uuid> {
    (entry.target_kind == "account")
        .then(|| Uuid::parse_str(&entry.target_id).ok())
        .flatten()
}

/// Which end of a time filter a moment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Since,
    Until,
}

/// `2026-09-01` or `24h` / `90m` / `7d` (that long before `now`). A day
/// starts at 00:00 UTC; as an `Until` bound it includes the whole day.
pub fn parse_moment(text: &str, bound: Bound, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = match bound {
            Bound::Since => day,
            Bound::Until => day.succ_opt()?,
        };
        return Some(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0)?));
    }
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = number.parse().ok().filter(|n| *n > 0 && *n <= 100_000)?;
    let ago = match unit {
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return None,
    };
    now.checked_sub_signed(ago)
}

/// Attempts per hour and outcome over the chart's window.
#[derive(Debug, Clone)]
pub struct HourlyOutcomes {
    /// The start of each hour, oldest first; the last is the current hour.
    pub hours: Vec<DateTime<Utc>>,
    /// Outcomes that occurred, in the order of [`OutcomeCode::ALL`] (others
    /// after), each with one count per hour.
    pub series: Vec<(String, Vec<i64>)>,
    pub region: Option<i64>,
}

/// What the console's page asks for.
#[derive(Debug, Clone, Default)]
pub struct ConsoleRequest {
    /// A reference code, a diary login or a SNILS.
    pub query: Option<String>,
    pub unmask: bool,
    /// The chart's region, if one.
    pub region: Option<i64>,
}

/// The console's page: a lookup's result, or the front page's chart.
pub struct ConsoleView {
    pub diagnosis: Option<Diagnosis>,
    pub chart: Option<HourlyOutcomes>,
}

impl Console<'_> {
    /// The operator whose session `cookie` is: `NotLoggedIn` without a
    /// session, `Forbidden` without an operator role.
    pub async fn operator(&self, cookie: Option<&str>) -> Result<Operator, AppError> {
        let session = self.account().session(cookie).await?;
        let role = self
            .operator_role(&session)
            .await?
            .ok_or(AppError::Forbidden)?;
        Ok(Operator {
            actor: format!("operator:{}", session.data.account_id),
            role,
            csrf: session.data.csrf,
        })
    }

    /// The operator behind a console form: a session, the form's CSRF token,
    /// an operator role (in that order, as for the unlink form).
    pub(crate) async fn acting_operator(
        &self,
        cookie: Option<&str>,
        csrf: &str,
    ) -> Result<Operator, AppError> {
        let session = self.account().session(cookie).await?;
        if !ephemeral::sessions::tokens_equal(csrf, &session.data.csrf) {
            return Err(AppError::CsrfMismatch);
        }
        let role = self
            .operator_role(&session)
            .await?
            .ok_or(AppError::Forbidden)?;
        Ok(Operator {
            actor: format!("operator:{}", session.data.account_id),
            role,
            csrf: session.data.csrf,
        })
    }

    /// The account, if it exists and lies within `scope` (a school); else
    /// `NotFound`, whichever of the two it is.
    pub(crate) async fn account_in_scope(
        &self,
        id: Uuid,
        scope: Option<Uuid>,
    ) -> Result<Account, AppError> {
        let account = match self.store.get_account(id).await {
            Ok(account) => account,
            Err(StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        match scope {
            Some(school) if account.school_id != Some(school) => Err(AppError::NotFound),
            _ => Ok(account),
        }
    }

    /// The console's page: the lookup of `request.query` (limited to the
    /// operator's school, if any), or without a query the front page's
    /// chart of attempts per hour.
    pub async fn page(
        &self,
        operator: &Operator,
        request: &ConsoleRequest,
        lang: Lang,
    ) -> Result<ConsoleView, AppError> {
        if request.unmask && !operator.role.may_unmask() {
            return Err(AppError::Forbidden);
        }
        match request.query.as_deref().map(str::trim) {
            Some(query) if !query.is_empty() => Ok(ConsoleView {
                diagnosis: Some(
                    self.diagnose_in(
                        query,
                        &operator.actor,
                        request.unmask,
                        operator.role.school(),
                        lang,
                    )
                    .await?,
                ),
                chart: None,
            }),
            _ => Ok(ConsoleView {
                diagnosis: None,
                chart: Some(self.attempts_per_hour(request.region).await?),
            }),
        }
    }

    /// The console's relink: a session with an operator role and the
    /// form's CSRF token, as for unlink.
    pub async fn operator_relink(
        &self,
        cookie: Option<&str>,
        csrf: &str,
        from: Uuid,
        provider: &str,
        to: Uuid,
        reason: &str,
    ) -> Result<Relinked, AppError> {
        let operator = self.acting_operator(cookie, csrf).await?;
        self.relink(&operator, from, provider, to, reason).await
    }

    /// Moves the link with `provider` from account `from` to account `to`
    /// (the person's identity was linked to the wrong diary account). A
    /// school administrator may do so only between accounts of their
    /// school.
    pub async fn relink(
        &self,
        operator: &Operator,
        from: Uuid,
        provider: &str,
        to: Uuid,
        reason: &str,
    ) -> Result<Relinked, AppError> {
        let reason = required_reason(reason)?;
        let scope = operator.role.school();
        self.account_in_scope(from, scope).await?;
        self.account_in_scope(to, scope).await?;
        if from == to {
            return Ok(Relinked::SameAccount);
        }
        let link = self
            .store
            .find_link_for_account(provider, from)
            .await?
            .ok_or(AppError::NotFound)?;
        if self
            .store
            .find_link_for_account(provider, to)
            .await?
            .is_some()
        {
            return Ok(Relinked::TargetLinked);
        }
        match self
            .store
            .relink(link.id, to, &operator.actor, reason)
            .await
        {
            Ok(_) => {}
            Err(StoreError::AlreadyLinked(_)) => return Ok(Relinked::TargetLinked),
            Err(StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(actor = %operator.actor, %from, %to, provider, "link moved by an operator");
        Ok(Relinked::Moved)
    }

    /// The console's correction: a session with an operator role and the
    /// form's CSRF token, as for unlink.
    pub async fn operator_correct(
        &self,
        cookie: Option<&str>,
        csrf: &str,
        account_id: Uuid,
        correction: &Correction,
        reason: &str,
    ) -> Result<Corrected, AppError> {
        let operator = self.acting_operator(cookie, csrf).await?;
        self.correct_personal_data(&operator, account_id, correction, reason)
            .await
    }

    /// The school corrects a person's name, birth date or SNILS in the
    /// console. Only an administrator of the person's own school may
    /// (support is `Forbidden`: the school is the source of these data).
    pub async fn correct_personal_data(
        &self,
        operator: &Operator,
        account_id: Uuid,
        correction: &Correction,
        reason: &str,
    ) -> Result<Corrected, AppError> {
        let OperatorRole::SchoolAdmin { school_id } = operator.role else {
            return Err(AppError::Forbidden);
        };
        self.correct_school_person(school_id, &operator.actor, account_id, correction, reason)
            .await
    }

    /// The school `school_id` corrects one of its people: its administrator
    /// in the console, or its own system through the school API (the caller
    /// has checked that `actor` acts for that school). A person of another
    /// school is `NotFound`; the audit row names the changed fields with
    /// masked values.
    pub async fn correct_school_person(
        &self,
        school_id: Uuid,
        actor: &str,
        account_id: Uuid,
        correction: &Correction,
        reason: &str,
    ) -> Result<Corrected, AppError> {
        let reason = required_reason(reason)?;
        let account = self.account_in_scope(account_id, Some(school_id)).await?;
        let (corrected, fields, details) = apply(&account, correction);
        if fields.is_empty() {
            return Ok(Corrected::Unchanged);
        }
        // The person is told in their notification centre, with the
        // change, in the same transaction (one notice per correction).
        let told = [NewNotification {
            account_id,
            kind: NoticeKind::DataCorrected.code().to_string(),
            subject_id: Uuid::new_v4().to_string(),
            params: json!({ "fields": fields }),
            created_at: self.now(),
        }];
        match self
            .store
            .correct_personal_data(&corrected, actor, reason, details, &told)
            .await
        {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(%actor, account = %account_id, ?fields, "personal data corrected");
        Ok(Corrected::Changed(fields))
    }

    /// Audit rows matching `query`, newest first, one page at a time. A
    /// school administrator sees only rows about accounts of their school.
    pub async fn audit_log(
        &self,
        operator: &Operator,
        query: &AuditQuery,
    ) -> Result<AuditPage, AppError> {
        let nonblank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let mut entries = self
            .store
            .audit_entries(&AuditFilter {
                actor: nonblank(&query.actor),
                action: nonblank(&query.action),
                target_id: nonblank(&query.subject),
                since: query.since,
                until: query.until,
                before_id: query.before,
                school_id: operator.role.school(),
                limit: AUDIT_PAGE_ROWS + 1,
            })
            .await?;
        let more = entries.len() > AUDIT_PAGE_ROWS as usize;
        entries.truncate(AUDIT_PAGE_ROWS as usize);
        let ids: Vec<Uuid> = entries
            .iter()
            .flat_map(|e| [audit_actor_account(&e.actor), audit_target_account(e)])
            .flatten()
            .collect();
        let people = self.person_labels(ids, operator.role.school()).await?;
        Ok(AuditPage {
            people,
            more_before: more.then(|| entries.last().map(|e| e.id)).flatten(),
            rows: entries
                .into_iter()
                .map(|e| AuditRow {
                    id: e.id,
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    target_kind: e.target_kind,
                    target_id: e.target_id,
                    reason: e.reason,
                    details: e.details,
                })
                .collect(),
        })
    }

    /// Attempts per hour and outcome over the last 24 hours (the current
    /// hour included), optionally of one region.
    pub async fn attempts_per_hour(&self, region: Option<i64>) -> Result<HourlyOutcomes, AppError> {
        let current = self.now().timestamp_millis().div_euclid(HOUR_MS);
        let first = current - (CHART_HOURS - 1);
        let since = Utc
            .timestamp_millis_opt(first * HOUR_MS)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let counts = self.store.attempts_per_hour(since, region).await?;
        let mut by_outcome: BTreeMap<(usize, String), Vec<i64>> = BTreeMap::new();
        for c in counts {
            let Ok(slot) = usize::try_from(c.hour - first) else {
                continue;
            };
            if slot >= CHART_HOURS as usize {
                continue;
            }
            let order = OutcomeCode::parse(&c.outcome)
                .and_then(|o| OutcomeCode::ALL.iter().position(|a| *a == o))
                .unwrap_or(OutcomeCode::ALL.len());
            by_outcome
                .entry((order, c.outcome))
                .or_insert_with(|| vec![0; CHART_HOURS as usize])[slot] += c.count;
        }
        Ok(HourlyOutcomes {
            hours: (first..=current)
                .filter_map(|h| Utc.timestamp_millis_opt(h * HOUR_MS).single())
                .collect(),
            series: by_outcome
                .into_iter()
                .map(|((_, outcome), counts)| (outcome, counts))
                .collect(),
            region,
        })
    }
}

/// The account with the correction applied, the names of the fields that
/// changed (roster column codes, which the person's notice is read back
/// by), and the audit details: field names and masked values only.
fn apply(account: &Account, correction: &Correction) -> (Account, Vec<&'static str>, Value) {
    let mut corrected = account.clone();
    let mut fields = Vec::new();
    let mut changes = serde_json::Map::new();
    let masked_name = |part: Option<&str>| part.map(mask_word);
    if let Some(name) = &correction.name {
        let parts: [(&'static str, Option<&str>, Option<&str>); 3] = [
            (
                Column::Surname.code(),
                Some(&account.surname),
                Some(name.surname()),
            ),
            (
                Column::GivenName.code(),
                Some(&account.given_name),
                Some(name.given()),
            ),
            (
                Column::Patronymic.code(),
                account.patronymic.as_deref(),
                name.patronymic(),
            ),
        ];
        for (field, before, after) in parts {
            if before != after {
                fields.push(field);
                changes.insert(
                    field.into(),
                    json!({"from": masked_name(before), "to": masked_name(after)}),
                );
            }
        }
        corrected.surname = name.surname().to_string();
        corrected.given_name = name.given().to_string();
        corrected.patronymic = name.patronymic().map(str::to_string);
    }
    if let Some(date) = correction.birth_date {
        if account.birth_date != Some(date) {
            // A date of birth is personal data too: only that it changed.
            fields.push(Column::BirthDate.code());
            corrected.birth_date = Some(date);
        }
    }
    if let Some(snils) = &correction.snils {
        if account.snils.as_deref() != Some(snils.digits()) {
            fields.push(Column::Snils.code());
            let before = account.snils.as_deref().map(|d| {
                Snils::parse(d)
                    .map(|s| s.masked())
                    .unwrap_or_else(|_| "(invalid)".into())
            });
            changes.insert(
                Column::Snils.code().into(),
                json!({"from": before, "to": snils.masked()}),
            );
            corrected.snils = Some(snils.digits().to_string());
        }
    }
    let details = json!({ "fields": fields, "changes": changes });
    (corrected, fields, details)
}

#[cfg(test)]
mod tests;
