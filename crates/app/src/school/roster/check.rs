//! Pass 1 of the import: every row validated alone, across the file and
//! against existing accounts. The file-wide marks (a key, SNILS or login
//! seen before, children still to come) are kept on disk for the length of
//! the check (`store::CheckMarks`), a run of rows at a time, so that memory
//! holds the runs being read and looked up, whatever the size of the file.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::source::rows;
use super::write_behind::WriteBehind;
use super::{
    FileProblem, ImportReport, Phase, Progress, RosterSource, Warning, BATCH_ROWS, LISTED_PROBLEMS,
};
use crate::{AppError, Schools};
use domain::name::normalize;
use domain::roster::{validate_row, ChunkCheck, Column, Problem, RosterPerson, RowProblem};
use store::{CheckMarks, SnilsHolder, StoreError};

/// Row numbers, one bit each: the bad rows of a file of any size in a few
/// KiB, where a set of numbers took some 40 bytes a row.
#[derive(Debug, Default)]
pub(super) struct RowSet {
    words: Vec<u64>,
    len: u64,
}

impl RowSet {
    pub(super) fn insert(&mut self, row: u64) {
        let (word, bit) = ((row / 64) as usize, row % 64);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        if self.words[word] & (1 << bit) == 0 {
            self.words[word] |= 1 << bit;
            self.len += 1;
        }
    }

    pub(super) fn contains(&self, row: u64) -> bool {
        self.words
            .get((row / 64) as usize)
            .is_some_and(|word| word & (1 << (row % 64)) != 0)
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }
}

/// What pass 1 learned: problems, warnings and the rows not to write.
pub(super) struct Checked {
    pub(super) report: ImportReport,
    pub(super) bad_rows: RowSet,
}

impl Checked {
    fn problem(&mut self, problem: RowProblem) {
        self.bad_rows.insert(problem.row);
        self.report.problems_total += 1;
        if self.report.problems.len() < LISTED_PROBLEMS {
            self.report.problems.push(problem);
        }
    }

    /// Counts a warning; the first [`LISTED_PROBLEMS`] are listed, so a
    /// file of a hundred thousand such rows keeps a report of bounded size.
    fn warning(&mut self, warning: Warning) {
        self.report.warnings_total += 1;
        if self.report.warnings.len() < LISTED_PROBLEMS {
            self.report.warnings.push(warning);
        }
    }
}

fn same_person(person: &RosterPerson, holder: &SnilsHolder) -> bool {
    normalize(person.name.surname()) == normalize(&holder.surname)
        && normalize(person.name.given()) == normalize(&holder.given_name)
        && person.name.patronymic().map(normalize) == holder.patronymic.as_deref().map(normalize)
        && Some(person.birth_date) == holder.birth_date
}

/// Existing accounts holding the SNILS and logins of a batch of rows.
pub(super) struct Holders {
    snils: HashMap<String, Vec<SnilsHolder>>,
    /// Login (lower case) → (school, roster key).
    logins: HashMap<String, (Option<String>, Option<String>)>,
}

/// SNILS and logins already held by someone the school does not mean.
fn check_against_accounts(
    school_id: Uuid,
    people: &[RosterPerson],
    holders: &Holders,
    checked: &mut Checked,
) {
    let school = school_id.to_string();
    for person in people {
        let this = |s: &Option<Uuid>, key: &Option<String>| {
            *s == Some(school_id) && key.as_deref() == Some(person.key.as_str())
        };
        if let Some(snils) = &person.snils {
            for holder in holders.snils.get(snils.digits()).into_iter().flatten() {
                if this(&holder.school_id, &holder.roster_key) {
                    continue;
                }
                if same_person(person, holder) && holder.school_id != Some(school_id) {
                    checked.warning(Warning::SamePersonElsewhere { row: person.row });
                } else {
                    checked.problem(RowProblem {
                        row: person.row,
                        column: Some(Column::Snils),
                        problem: Problem::SnilsTaken,
                    });
                }
            }
        }
        if let Some((holder_school, holder_key)) =
            person.login.as_ref().and_then(|l| holders.logins.get(l))
        {
            let same = holder_school.as_deref() == Some(school.as_str())
                && holder_key.as_deref() == Some(person.key.as_str());
            if !same {
                checked.problem(RowProblem {
                    row: person.row,
                    column: Some(Column::Login),
                    problem: Problem::LoginTaken,
                });
            }
        }
    }
}

impl Schools<'_> {
    /// Pass 1; a problem with the file as a whole comes back as `Err`
    /// inside `Ok`.
    pub(super) async fn check_roster(
        &self,
        school_id: Uuid,
        source: &dyn RosterSource,
        today: NaiveDate,
        checked: &mut Checked,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<Result<(), FileProblem>, AppError> {
        let mut run = Run {
            marks: CheckMarks::open()?,
            rows: ChunkCheck::default(),
            references: 0,
        };
        let mut pending: Vec<RosterPerson> = Vec::with_capacity(BATCH_ROWS);
        let mut looking_up: WriteBehind<(Vec<RosterPerson>, Holders)> =
            WriteBehind::new(self.store());
        let rows = match rows(source) {
            Ok(rows) => rows,
            Err(problem) => return Ok(Err(problem)),
        };
        for raw in rows {
            let raw = match raw {
                Ok(raw) => raw,
                Err(problem) => return Ok(Err(problem)),
            };
            checked.report.rows += 1;
            match validate_row(&raw, today) {
                Ok(person) => {
                    run.rows.add(&person);
                    pending.push(person);
                }
                Err(problems) => run.rows.add_bad(&raw, problems),
            }
            // The run's problems are reported before the lookup of an
            // earlier batch's accounts, as each row's were when they were
            // judged as it was read.
            if pending.len() >= BATCH_ROWS || run.rows.len() >= BATCH_ROWS {
                judge_run(&mut run, checked).await?;
            }
            if pending.len() >= BATCH_ROWS {
                // The batch's lookup runs while the next batch is read and
                // validated; results are applied batch by batch, in order.
                let full = std::mem::replace(&mut pending, Vec::with_capacity(BATCH_ROWS));
                if let Some((people, holders)) = looking_up.ready().await? {
                    check_against_accounts(school_id, &people, &holders, checked);
                }
                looking_up.start(self.look_up_holders(full));
            }
            if checked.report.rows.is_multiple_of(1000) {
                progress(Progress {
                    phase: Phase::Checking,
                    rows: checked.report.rows,
                });
            }
        }
        judge_run(&mut run, checked).await?;
        if let Some((people, holders)) = looking_up.ready().await? {
            check_against_accounts(school_id, &people, &holders, checked);
        }
        looking_up.start(self.look_up_holders(pending));
        while let Some((people, holders)) = looking_up.next().await? {
            check_against_accounts(school_id, &people, &holders, checked);
        }
        // Children named before their row, judged now the file is read.
        let mut after = None;
        loop {
            let children = run.marks.unresolved(after, BATCH_ROWS).await?;
            let Some(last) = children.last() else { break };
            after = Some(last.seq);
            for child in children {
                if let Some(problem) = child.reference.judge(child.first_is_pupil) {
                    checked.problem(problem);
                }
            }
        }
        checked.report.problems.sort_by_key(|p| p.row);
        checked.report.good_rows = checked.report.rows - checked.bad_rows.len();
        Ok(Ok(()))
    }

    /// The existing accounts holding a batch's SNILS and logins, to run on
    /// its own task; gives the batch back.
    fn look_up_holders(
        &self,
        people: Vec<RosterPerson>,
    ) -> impl std::future::Future<Output = Result<(Vec<RosterPerson>, Holders), StoreError>>
           + Send
           + 'static {
        let store = self.store().clone();
        async move {
            let snils: Vec<String> = people
                .iter()
                .filter_map(|p| p.snils.as_ref().map(|s| s.digits().to_string()))
                .collect();
            let mut by_snils: HashMap<String, Vec<SnilsHolder>> = HashMap::new();
            for holder in store.snils_holders(&snils).await? {
                by_snils
                    .entry(holder.snils.clone())
                    .or_default()
                    .push(holder);
            }
            let logins: Vec<String> = people.iter().filter_map(|p| p.login.clone()).collect();
            let by_login = store.login_holders(&logins).await?;
            Ok((
                people,
                Holders {
                    snils: by_snils,
                    logins: by_login,
                },
            ))
        }
    }
}

/// The rows read since the last judged run, and the check's marks.
struct Run {
    marks: CheckMarks,
    rows: ChunkCheck,
    /// Children kept for the end so far.
    references: u64,
}

/// Judges the rows read since the last run against the marks of the
/// earlier ones, and keeps the run's marks for the next.
async fn judge_run(run: &mut Run, checked: &mut Checked) -> Result<(), AppError> {
    let rows = std::mem::take(&mut run.rows);
    if rows.is_empty() {
        return Ok(());
    }
    let earlier = run.marks.marks(rows.wanted()).await?;
    let verdict = rows.judge(&earlier);
    let references = verdict.references.len() as u64;
    run.marks
        .add(verdict.marks, verdict.references, run.references)
        .await?;
    run.references += references;
    for problem in verdict.problems {
        checked.problem(problem);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file whose every row warns keeps a report of bounded size: the
    /// first LISTED_PROBLEMS warnings, and the count of all of them.
    #[test]
    fn warnings_are_counted_all_and_listed_up_to_the_limit() {
        let mut checked = Checked {
            report: ImportReport::default(),
            bad_rows: RowSet::default(),
        };
        for row in 2..(LISTED_PROBLEMS as u64 + 7) {
            checked.warning(Warning::SamePersonElsewhere { row });
        }
        assert_eq!(checked.report.warnings.len(), LISTED_PROBLEMS);
        assert_eq!(checked.report.warnings_total, LISTED_PROBLEMS as u64 + 5);
        assert!(matches!(
            checked.report.warnings[0],
            Warning::SamePersonElsewhere { row: 2 }
        ));
        assert!(checked.report.ok(), "warnings are not problems");
    }
}
