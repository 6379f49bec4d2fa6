//! Large roster files are checked, and then written, by a background job:
//! the upload's request answers at once with the job's page, which
//! refreshes itself until the report is ready. The job's record lives in
//! the ephemeral store (any instance shows it); the instance that started
//! the job touches the record every second, so a job whose instance died
//! shows as interrupted rather than running forever. A school runs one job
//! at a time. The finished report is kept in both languages.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::school::console::{CheckedUpload, SchoolAdmin, UPLOAD_TTL};
use crate::school::roster::{Phase, Progress};
use crate::{App, AppError, Schools};
use ::texts::prelude::*;
use i18n::Lang;

/// How often the running job writes its progress down.
const BEAT: Duration = Duration::from_secs(1);
/// A running job not heard of for this long died with its instance.
const STALE_AFTER_SECONDS: i64 = 30;

fn job_key(school_id: uuid::Uuid, id: &str) -> String {
    format!("school-job:{school_id}:{id}")
}

/// The ephemeral key holding the school's running job (its upload id); it
/// expires unless the job touches it. Tests hold it to play a running job.
pub fn running_key(school_id: uuid::Uuid) -> String {
    format!("school-job-running:{school_id}")
}

/// A text in both languages, so that a stored report reads in either.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Both {
    pub ru: String,
    pub en: String,
}

impl Both {
    fn of(text: impl Fn(Lang) -> String) -> Both {
        Both {
            ru: text(Lang::Ru),
            en: text(Lang::En),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        }
    }
}

/// One problem of a report as the school reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProblemLine {
    /// As the spreadsheet shows it (header = row 1).
    pub row: u64,
    pub key: String,
    pub name: String,
    pub column: Both,
    pub reason: Both,
    pub fix: Both,
}

/// A check's or a write's report as shown and downloaded, in both
/// languages: what a job keeps for its page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportSnapshot {
    pub rows: u64,
    pub good_rows: u64,
    pub problems_total: u64,
    pub written: bool,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub relationships_added: u64,
    /// The whole file was refused: why.
    pub file_problem: Option<Both>,
    /// The first problems, in file order.
    pub problems: Vec<ProblemLine>,
    /// The first warnings, in file order, and how many there were
    /// (records kept before the count was added read as listed).
    pub warnings: Vec<Both>,
    #[serde(default)]
    pub warnings_total: u64,
}

impl CheckedUpload {
    pub fn snapshot(&self) -> ReportSnapshot {
        let report = &self.report;
        let problems = report
            .problems
            .iter()
            .map(|p| {
                let label = self.labels.get(&p.row);
                ProblemLine {
                    row: p.row,
                    key: label.map(|l| l.key.clone()).unwrap_or_default(),
                    name: label.map(|l| l.name.clone()).unwrap_or_default(),
                    column: Both::of(|lang| {
                        p.column
                            .map(|c| c.label(lang).to_string())
                            .unwrap_or_default()
                    }),
                    reason: Both::of(|lang| p.problem.message(lang)),
                    fix: Both::of(|lang| ::texts::how_to_fix(&p.problem, lang).to_string()),
                }
            })
            .collect();
        ReportSnapshot {
            rows: report.rows,
            good_rows: report.good_rows,
            problems_total: report.problems_total,
            written: report.written,
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
            relationships_added: report.relationships_added,
            file_problem: report
                .file_problem
                .as_ref()
                .map(|f| Both::of(|lang| f.message(lang))),
            problems,
            warnings: report
                .warnings
                .iter()
                .map(|w| Both::of(|lang| w.message(lang)))
                .collect(),
            warnings_total: report.warnings_total,
        }
    }
}

/// What a job does with its upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Check,
    /// Only when every row is good.
    WriteAll,
    WriteGood,
}

/// A job as its record keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRecord {
    pub kind: JobKind,
    /// None until the first rows are read.
    pub phase: Option<Phase>,
    /// Rows through the current phase.
    pub rows: u64,
    /// Rows the phase will go through, when known (a write knows them
    /// from its check).
    pub expected_rows: Option<u64>,
    pub started_at: DateTime<Utc>,
    /// Last touched by the instance running it.
    pub beat_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub report: Option<ReportSnapshot>,
    /// The job stopped on an error of the service (logged), not of the file.
    pub failed: bool,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    /// Its instance stopped while it ran.
    Interrupted,
    Done,
    Failed,
}

impl JobRecord {
    pub fn state(&self, now: DateTime<Utc>) -> JobState {
        if self.failed {
            JobState::Failed
        } else if self.report.is_some() {
            JobState::Done
        } else if (now - self.beat_at).num_seconds() > STALE_AFTER_SECONDS {
            JobState::Interrupted
        } else {
            JobState::Running
        }
    }
}

/// Whether a job was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStart {
    Started,
    /// The school runs another job: this upload id.
    Busy {
        upload: String,
    },
}

impl Schools<'_> {
    /// Whether an upload of this size is checked and written by a job
    /// rather than within the request (`[uploads] background_from_bytes`).
    pub fn runs_in_background(&self, file_bytes: usize) -> bool {
        file_bytes as u64 >= self.config().uploads.background_from_bytes
    }

    /// The job of this school's upload; `NotFound` if there is none (a
    /// small upload, an expired one, another school's).
    pub async fn job(&self, admin: &SchoolAdmin, id: &str) -> Result<JobRecord, AppError> {
        if !valid_id(id) {
            return Err(AppError::NotFound);
        }
        let bytes = self
            .ephemeral()
            .get(&job_key(admin.school_id, id))
            .await?
            .ok_or(AppError::NotFound)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| AppError::Internal(format!("reading a roster job: {e}")))
    }

    /// The upload id of the job this school runs now, if any.
    pub async fn running_job(&self, admin: &SchoolAdmin) -> Result<Option<String>, AppError> {
        Ok(self
            .ephemeral()
            .get(&running_key(admin.school_id))
            .await?
            .map(|id| String::from_utf8_lossy(&id).into_owned()))
    }

    /// Writes a job's record (the job itself, and tests).
    pub async fn save_job(
        &self,
        admin: &SchoolAdmin,
        id: &str,
        record: &JobRecord,
    ) -> Result<(), AppError> {
        let bytes = serde_json::to_vec(record)
            .map_err(|e| AppError::Internal(format!("writing a roster job: {e}")))?;
        self.ephemeral()
            .put(&job_key(admin.school_id, id), &bytes, UPLOAD_TTL)
            .await?;
        Ok(())
    }
}

fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Starts a job on a kept upload of the admin's school. It needs the
/// shared handle: the job outlives the request that starts it.
pub async fn start(
    app: &Arc<App>,
    admin: &SchoolAdmin,
    id: &str,
    kind: JobKind,
) -> Result<JobStart, AppError> {
    let school = app.school();
    let bytes = school.kept_upload(admin, id).await?;
    let checked = school.job(admin, id).await.ok().and_then(|j| j.report);
    let lock = running_key(admin.school_id);
    let ttl = Duration::from_secs(STALE_AFTER_SECONDS as u64);
    if !app
        .ephemeral()
        .put_if_absent(&lock, id.as_bytes(), ttl)
        .await?
    {
        let upload = school.running_job(admin).await?.unwrap_or_default();
        return Ok(JobStart::Busy { upload });
    }
    let now = app.now();
    let record = JobRecord {
        kind,
        phase: None,
        rows: 0,
        expected_rows: match kind {
            JobKind::Check => None,
            JobKind::WriteAll | JobKind::WriteGood => checked.map(|c| c.good_rows),
        },
        started_at: now,
        beat_at: now,
        finished_at: None,
        report: None,
        failed: false,
    };
    if let Err(e) = school.save_job(admin, id, &record).await {
        let _ = app.ephemeral().delete(&lock).await;
        return Err(e);
    }
    tokio::spawn(run(
        app.clone(),
        admin.clone(),
        id.to_string(),
        bytes,
        record,
    ));
    Ok(JobStart::Started)
}

/// The phase and rows the import reports, read by the beat.
#[derive(Default)]
struct Counter {
    phase: AtomicU8,
    rows: AtomicU64,
}

impl Counter {
    fn set(&self, progress: Progress) {
        let phase = match progress.phase {
            Phase::Checking => 1,
            Phase::Writing => 2,
            Phase::Linking => 3,
        };
        self.phase.store(phase, Ordering::Relaxed);
        self.rows.store(progress.rows, Ordering::Relaxed);
    }

    fn phase(&self) -> Option<Phase> {
        match self.phase.load(Ordering::Relaxed) {
            1 => Some(Phase::Checking),
            2 => Some(Phase::Writing),
            3 => Some(Phase::Linking),
            _ => None,
        }
    }
}

async fn run(
    app: Arc<App>,
    admin: SchoolAdmin,
    id: String,
    bytes: bytes::Bytes,
    mut record: JobRecord,
) {
    let school = app.school();
    let counter = Counter::default();
    let progress = |p: Progress| counter.set(p);
    let (dry_run, partial) = match record.kind {
        JobKind::Check => (true, false),
        JobKind::WriteAll => (false, false),
        JobKind::WriteGood => (false, true),
    };
    let work = school.run_upload(&admin, bytes, dry_run, partial, &progress);
    tokio::pin!(work);
    let mut beat = tokio::time::interval(BEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let lock = running_key(admin.school_id);
    let lock_ttl = Duration::from_secs(STALE_AFTER_SECONDS as u64);
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = beat.tick() => {
                record.phase = counter.phase();
                if record.phase == Some(Phase::Linking) {
                    record.expected_rows = None;
                }
                record.rows = counter.rows.load(Ordering::Relaxed);
                record.beat_at = app.now();
                write_progress(&school, &admin, &id, &record, &lock, lock_ttl).await;
            }
        }
    };
    match outcome {
        Ok(checked) => {
            record.rows = checked.report.rows;
            if checked.report.written {
                let _ = school.forget_upload(&admin, &id).await;
            }
            record.report = Some(checked.snapshot());
        }
        Err(error) => {
            tracing::error!(%error, school = %admin.school_id, "a roster job failed");
            record.failed = true;
        }
    }
    record.finished_at = Some(app.now());
    record.beat_at = app.now();
    if let Err(error) = school.save_job(&admin, &id, &record).await {
        tracing::error!(%error, "could not keep a roster job's report");
    }
    let _ = app.ephemeral().delete(&lock).await;
}

/// Writes the running job's progress and keeps the school's lock.
async fn write_progress(
    school: &Schools<'_>,
    admin: &SchoolAdmin,
    id: &str,
    record: &JobRecord,
    lock: &str,
    lock_ttl: Duration,
) {
    if let Err(error) = school.save_job(admin, id, record).await {
        tracing::warn!(%error, "could not write a roster job's progress");
    }
    let _ = school.ephemeral().expire(lock, lock_ttl).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(beat_seconds_ago: i64, report: bool, failed: bool) -> (JobRecord, DateTime<Utc>) {
        let now = Utc::now();
        let at = now - chrono::Duration::seconds(beat_seconds_ago);
        let snapshot = ReportSnapshot {
            rows: 1,
            good_rows: 1,
            problems_total: 0,
            written: false,
            created: 0,
            updated: 0,
            unchanged: 0,
            relationships_added: 0,
            file_problem: None,
            problems: vec![],
            warnings: vec![],
            warnings_total: 0,
        };
        (
            JobRecord {
                kind: JobKind::Check,
                phase: Some(Phase::Checking),
                rows: 10,
                expected_rows: None,
                started_at: at,
                beat_at: at,
                finished_at: None,
                report: report.then_some(snapshot),
                failed,
            },
            now,
        )
    }

    #[test]
    fn a_job_state_follows_its_record() {
        let cases = [
            // (seconds since the last beat, report, failed, state)
            (0, false, false, JobState::Running),
            (STALE_AFTER_SECONDS, false, false, JobState::Running),
            (STALE_AFTER_SECONDS + 1, false, false, JobState::Interrupted),
            (3600, true, false, JobState::Done),
            (3600, false, true, JobState::Failed),
            (0, true, true, JobState::Failed),
        ];
        for (ago, report, failed, state) in cases {
            let (record, now) = record(ago, report, failed);
            assert_eq!(
                record.state(now),
                state,
                "{ago} s, report {report}, failed {failed}"
            );
        }
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let (record, _) = record(0, true, false);
        let json = serde_json::to_vec(&record).unwrap();
        let back: JobRecord = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.kind, JobKind::Check);
        assert_eq!(back.phase, Some(Phase::Checking));
        assert_eq!(back.report.map(|r| r.rows), Some(1));
    }
}
