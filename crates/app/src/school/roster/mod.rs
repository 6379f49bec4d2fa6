//! Roster import: a school's CSV or JSON file of pupils, parents and
//! teachers, checked whole before anything is written.
//!
//! Three passes over the source, each streamed: (1) every row is validated
//! alone, across the file and against existing accounts, and every problem
//! is collected; (2) unless there were problems (or `partial` was asked
//! for), good rows are written in batches, one transaction each, creating or
//! updating by the school's key, so re-importing a file changes nothing
//! twice; (3) parents' children become proposed relationships. Memory holds
//! the batches being written (one on SQLite, two on PostgreSQL) and the one
//! being read, and a bit per row for the bad ones; the file-wide marks of
//! pass 1 are kept in the database (`check`).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::{AppError, Schools};
use ::texts::prelude::*;
use domain::roster::{validate_row, Column, RawRow, RosterPerson, RosterRole, RowProblem};
use i18n::Lang;
use store::{BatchWritten, StoreError};

mod check;
mod source;
mod write_behind;

use check::{Checked, RowSet};
use source::rows;
pub use source::{BytesSource, FileSource, RosterSource, SheetSource};
pub(crate) use write_behind::WriteBehind;

/// Rows written per transaction. Each transaction rewrites the pages it
/// touches at the end of every index (and SQLite logs each such page once
/// per commit): 2000 rows wrote a million-row roster in 17 s instead of 23 s
/// with 500, and the batch in flight is a few hundred KiB.
pub const BATCH_ROWS: usize = 2000;
/// Problems listed in a report; the total is always counted.
pub const LISTED_PROBLEMS: usize = 1000;
/// Accounts created by one import after which the planner's statistics
/// are refreshed before the parents' links (and the codes that usually
/// follow) are looked up.
const STATISTICS_AFTER_ROWS: u64 = 10_000;

/// Who a report's row is about, so the school finds the person.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RowLabel {
    pub key: String,
    pub name: String,
}

/// The key and name on each of `wanted`'s rows, read from the source
/// again (rows it cannot read are left out).
pub fn row_labels(source: &dyn RosterSource, wanted: &BTreeSet<u64>) -> HashMap<u64, RowLabel> {
    let mut labels = HashMap::new();
    if wanted.is_empty() {
        return labels;
    }
    for raw in rows(source).into_iter().flatten().map_while(Result::ok) {
        if wanted.contains(&raw.row) {
            let name: Vec<&str> = [Column::Surname, Column::GivenName, Column::Patronymic]
                .into_iter()
                .filter_map(|c| raw.get(c))
                .collect();
            labels.insert(
                raw.row,
                RowLabel {
                    key: raw.get(Column::Key).unwrap_or_default().to_string(),
                    name: name.join(" "),
                },
            );
        }
        if wanted.last().is_some_and(|last| raw.row >= *last) {
            break;
        }
    }
    labels
}

/// The spreadsheet reader's limits for an uploaded roster, from `[uploads]`.
pub fn upload_limits(config: &config::Config) -> sheet::Limits {
    sheet::Limits {
        max_file_bytes: config.uploads.max_file_bytes,
        max_rows: config.uploads.max_rows,
        max_unpacked_bytes: config.uploads.max_unpacked_bytes,
        ..sheet::Limits::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterFormat {
    Csv,
    Json,
    /// XLSX or CSV (UTF-8 or Windows-1251) through the `sheet` crate.
    Sheet,
}

/// A problem with the file as a whole: nothing in it can be read as rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileProblem {
    NotUtf8 {
        row: u64,
    },
    NoHeader,
    UnknownColumn {
        name: String,
    },
    MissingColumn {
        column: Column,
    },
    DuplicateColumn {
        column: Column,
    },
    Syntax {
        row: u64,
        detail: String,
    },
    Json {
        detail: String,
    },
    /// What the spreadsheet reader refused, in its own words.
    Sheet {
        row: Option<u64>,
        ru: String,
        en: String,
    },
}

impl FileProblem {
    pub fn message(&self, lang: Lang) -> String {
        let known = Column::ALL.map(Column::code).join(", ");
        match (self, lang) {
            (FileProblem::NotUtf8 { row }, Lang::Ru) => {
                format!("строка {row}: файл не в кодировке UTF-8 — сохраните его как «CSV UTF-8»")
            }
            (FileProblem::NotUtf8 { row }, Lang::En) => {
                format!("row {row}: the file is not UTF-8; save it as \"CSV UTF-8\"")
            }
            (FileProblem::NoHeader, Lang::Ru) => "в файле нет строки заголовков".into(),
            (FileProblem::NoHeader, Lang::En) => "the file has no header row".into(),
            (FileProblem::UnknownColumn { name }, Lang::Ru) => {
                format!("неизвестный столбец «{name}»; допустимые: {known}")
            }
            (FileProblem::UnknownColumn { name }, Lang::En) => {
                format!("unknown column \"{name}\"; known columns: {known}")
            }
            (FileProblem::MissingColumn { column }, lang) => match lang {
                Lang::Ru => format!("нет обязательного столбца «{}»", column.code()),
                Lang::En => format!("the required column \"{}\" is missing", column.code()),
            },
            (FileProblem::DuplicateColumn { column }, lang) => match lang {
                Lang::Ru => format!("столбец «{}» указан дважды", column.code()),
                Lang::En => format!("the column \"{}\" appears twice", column.code()),
            },
            (FileProblem::Syntax { row, detail }, Lang::Ru) => {
                format!("строка {row}: ошибка формата CSV ({detail})")
            }
            (FileProblem::Syntax { row, detail }, Lang::En) => {
                format!("row {row}: CSV syntax error ({detail})")
            }
            (FileProblem::Json { detail }, Lang::Ru) => format!("ошибка в JSON: {detail}"),
            (FileProblem::Json { detail }, Lang::En) => format!("JSON error: {detail}"),
            (FileProblem::Sheet { ru, .. }, Lang::Ru) => ru.clone(),
            (FileProblem::Sheet { en, .. }, Lang::En) => en.clone(),
        }
    }
}

/// Something worth knowing that does not stop the import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// The same person (name, birth date, SNILS) has an account at another
    /// school: State Services logins will have two accounts to choose from.
    SamePersonElsewhere { row: u64 },
}

impl Warning {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Warning::SamePersonElsewhere { row }, Lang::Ru) => format!(
                "строка {row}: у этого человека (те же ФИО, дата рождения и СНИЛС) есть учётная запись в другой школе — вход через Госуслуги найдёт обе"
            ),
            (Warning::SamePersonElsewhere { row }, Lang::En) => format!(
                "row {row}: this person (same name, birth date and SNILS) has an account at another school; State Services logins will find both"
            ),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub rows: u64,
    pub good_rows: u64,
    /// Nothing could be read as rows; nothing was written.
    pub file_problem: Option<FileProblem>,
    /// The first [`LISTED_PROBLEMS`] problems, in file order.
    pub problems: Vec<RowProblem>,
    pub problems_total: u64,
    /// The first [`LISTED_PROBLEMS`] warnings, in file order.
    pub warnings: Vec<Warning>,
    pub warnings_total: u64,
    /// Whether anything was written.
    pub written: bool,
    pub created: u64,
    pub updated: u64,
    /// Good rows that matched an account already saying the same.
    pub unchanged: u64,
    pub relationships_added: u64,
    /// The rows written, as inclusive ranges (all good rows, or with
    /// `partial` the good ones).
    pub written_rows: Vec<(u64, u64)>,
}

impl ImportReport {
    pub fn ok(&self) -> bool {
        self.file_problem.is_none() && self.problems_total == 0
    }

    /// The report with each problem's message in the chosen language.
    pub fn to_json(&self, lang: Lang) -> serde_json::Value {
        let report = self;
        let mut value = serde_json::to_value(report).unwrap_or_default();
        if let Some(problems) = value.get_mut("problems").and_then(|p| p.as_array_mut()) {
            for (json, problem) in problems.iter_mut().zip(&report.problems) {
                json["message"] = problem.problem.message(lang).into();
                json["code"] = problem.problem.code().into();
            }
        }
        if let Some(file) = &report.file_problem {
            value["file_problem"]["message"] = file.message(lang).into();
        }
        if let Some(warnings) = value.get_mut("warnings").and_then(|w| w.as_array_mut()) {
            for (json, warning) in warnings.iter_mut().zip(&report.warnings) {
                json["message"] = warning.message(lang).into();
            }
        }
        value
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Checking,
    Writing,
    Linking,
}

/// Reported every few hundred rows, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub phase: Phase,
    pub rows: u64,
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Write the good rows even when some are bad.
    pub partial: bool,
    /// Check only.
    pub dry_run: bool,
}

impl Schools<'_> {
    /// Checks a roster and, when it is good (or `partial`), writes it for
    /// `school_id`. Input problems come back in the report, not as errors.
    pub async fn import_roster(
        &self,
        school_id: Uuid,
        source: &dyn RosterSource,
        options: &ImportOptions,
        actor: &str,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<ImportReport, AppError> {
        self.store().get_school(school_id).await?;
        let today = self.now().date_naive();
        let mut checked = Checked {
            report: ImportReport::default(),
            bad_rows: RowSet::default(),
        };
        if let Err(problem) = self
            .check_roster(school_id, source, today, &mut checked, progress)
            .await?
        {
            checked.report.file_problem = Some(problem);
            return Ok(checked.report);
        }
        let Checked {
            mut report,
            bad_rows,
        } = checked;
        if options.dry_run || (report.problems_total > 0 && !options.partial) {
            return Ok(report);
        }
        let written = self
            .write_roster(
                school_id,
                source,
                today,
                &bad_rows,
                &mut report,
                actor,
                progress,
            )
            .await;
        // Roles, schools and links may have changed for anyone in the file,
        // also when a later batch failed after earlier ones committed.
        self.access_changed(&[crate::access_cache::Invalidation::All])
            .await;
        written?;
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_roster(
        &self,
        school_id: Uuid,
        source: &dyn RosterSource,
        today: NaiveDate,
        bad_rows: &RowSet,
        report: &mut ImportReport,
        actor: &str,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(), AppError> {
        let good = |raw: &RawRow| -> Option<RosterPerson> {
            if bad_rows.contains(raw.row) {
                return None;
            }
            validate_row(raw, today).ok()
        };
        // Pass 2: the people. Each batch is written on its own task while
        // the next one is read and validated.
        let mut batch: Vec<RosterPerson> = Vec::with_capacity(BATCH_ROWS);
        let mut writing: WriteBehind<(Vec<RosterPerson>, BatchWritten)> =
            WriteBehind::new(self.store());
        let mut seen = 0u64;
        for raw in rows(source).into_iter().flatten().map_while(Result::ok) {
            seen += 1;
            if let Some(person) = good(&raw) {
                batch.push(person);
            }
            if batch.len() >= BATCH_ROWS {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                if let Some((done, written)) = writing.ready().await? {
                    record_written(report, &done, written);
                }
                writing.start(self.write_people(school_id, full, actor));
                progress(Progress {
                    phase: Phase::Writing,
                    rows: seen,
                });
            }
        }
        if !batch.is_empty() {
            if let Some((done, written)) = writing.ready().await? {
                record_written(report, &done, written);
            }
            writing.start(self.write_people(school_id, batch, actor));
        }
        while let Some((done, written)) = writing.next().await? {
            record_written(report, &done, written);
        }
        if report.created >= STATISTICS_AFTER_ROWS {
            self.store().refresh_account_statistics().await?;
        }
        // Pass 3: parents' children, once every pupil exists.
        let mut pairs: Vec<(String, String)> = Vec::with_capacity(BATCH_ROWS);
        let mut linking = WriteBehind::new(self.store());
        seen = 0;
        for raw in rows(source).into_iter().flatten().map_while(Result::ok) {
            seen += 1;
            // Only parents' children matter here, and every good row was
            // validated twice already: read just the cells needed.
            let parent = raw
                .get(Column::Role)
                .and_then(RosterRole::parse)
                .is_some_and(|r| r == RosterRole::Parent);
            if parent && !bad_rows.contains(raw.row) {
                if let (Some(key), Some(children)) =
                    (raw.get(Column::Key), raw.get(Column::Children))
                {
                    pairs.extend(
                        domain::roster::split_children(children)
                            .map(|child| (key.to_string(), child.to_string())),
                    );
                }
            }
            if pairs.len() >= BATCH_ROWS {
                let full = std::mem::replace(&mut pairs, Vec::with_capacity(BATCH_ROWS));
                report.relationships_added += linking.ready().await?.unwrap_or(0);
                linking.start(self.link_pairs(school_id, full, actor));
                progress(Progress {
                    phase: Phase::Linking,
                    rows: seen,
                });
            }
        }
        report.relationships_added += linking.ready().await?.unwrap_or(0);
        linking.start(self.link_pairs(school_id, pairs, actor));
        while let Some(added) = linking.next().await? {
            report.relationships_added += added;
        }
        Ok(())
    }

    /// A batch of parent→child pairs proposed, to run on its own task.
    fn link_pairs(
        &self,
        school_id: Uuid,
        pairs: Vec<(String, String)>,
        actor: &str,
    ) -> impl std::future::Future<Output = Result<u64, StoreError>> + Send + 'static {
        let store = self.store().clone();
        let actor = actor.to_string();
        async move { store.propose_relationships(school_id, &pairs, &actor).await }
    }

    /// A batch's write, to run on its own task; gives the batch back.
    fn write_people(
        &self,
        school_id: Uuid,
        batch: Vec<RosterPerson>,
        actor: &str,
    ) -> impl std::future::Future<Output = Result<(Vec<RosterPerson>, BatchWritten), StoreError>>
           + Send
           + 'static {
        let store = self.store().clone();
        let actor = actor.to_string();
        async move {
            let written = store.upsert_roster_batch(school_id, &batch, &actor).await?;
            Ok((batch, written))
        }
    }
}

fn record_written(report: &mut ImportReport, batch: &[RosterPerson], written: BatchWritten) {
    report.written = true;
    report.created += written.created;
    report.updated += written.updated;
    report.unchanged += written.unchanged;
    // Consecutive rows read as one range, also across batches.
    for row in batch.iter().map(|p| p.row) {
        match report.written_rows.last_mut() {
            Some(prev) if prev.1 + 1 == row => prev.1 = row,
            _ => report.written_rows.push((row, row)),
        }
    }
}

#[cfg(test)]
mod tests;
