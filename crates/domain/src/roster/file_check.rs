//! The checks across a file: keys and SNILS once each, logins once each,
//! parents' children present and pupils.
//!
//! Rows are judged a run at a time ([`ChunkCheck`]) against the marks the
//! earlier runs left: for each key, SNILS and login, a fingerprint and the
//! first row that had it. The caller keeps the marks — the import keeps
//! them in the database, so that its memory holds one run, whatever the
//! size of the file; [`FileCheck`] keeps them in memory. A parent's child
//! whose key no earlier row had becomes a [`Reference`], judged once the
//! whole file is read. Whichever way the file is cut into runs, the same
//! rows get the same problems in the same order.

use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::{Column, Problem, RawRow, RosterPerson, RosterRole, RowProblem};
use crate::snils::Snils;

fn fingerprint(text: &str) -> u64 {
    // Fixed keys: the same text gives the same fingerprint in every pass.
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// What a mark remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MarkKind {
    Key,
    Snils,
    Login,
}

impl MarkKind {
    /// As stored.
    pub fn code(self) -> i64 {
        match self {
            MarkKind::Key => 0,
            MarkKind::Snils => 1,
            MarkKind::Login => 2,
        }
    }

    pub fn from_code(code: i64) -> Option<MarkKind> {
        [MarkKind::Key, MarkKind::Snils, MarkKind::Login]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// The first row of the file with a key, SNILS or login (by its
/// fingerprint); for a key, whether that row is a pupil.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub kind: MarkKind,
    pub fingerprint: u64,
    pub first_row: u64,
    pub pupil: bool,
}

/// A parent's child whose key no earlier row had: it may still come, so it
/// is judged once the whole file is read ([`Reference::judge`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub row: u64,
    pub child: String,
}

impl Reference {
    /// The fingerprint of the child's key, to find its mark.
    pub fn fingerprint(&self) -> u64 {
        fingerprint(&self.child)
    }

    /// The problem, given whether the first row with the child's key is a
    /// pupil (`None`: no row has it).
    pub fn judge(self, first_is_pupil: Option<bool>) -> Option<RowProblem> {
        let problem = match first_is_pupil {
            None => Problem::UnknownChild { child: self.child },
            Some(false) => Problem::ChildNotPupil { child: self.child },
            Some(true) => return None,
        };
        Some(RowProblem {
            row: self.row,
            column: Some(Column::Children),
            problem,
        })
    }
}

/// A row as the file-wide checks see it.
enum RowMarks {
    /// Passed [`super::validate_row`]: its own marks may repeat earlier ones.
    Good {
        row: u64,
        key: u64,
        pupil: bool,
        snils: Option<u64>,
        login: Option<u64>,
        children: Vec<String>,
    },
    /// Failed its own checks: its problems, and the key and SNILS it still
    /// leaves, so that a later row repeating them is reported.
    Bad {
        row: u64,
        problems: Vec<RowProblem>,
        key: Option<(u64, bool)>,
        snils: Option<u64>,
    },
}

/// A run of consecutive rows, fed in file order (good rows with
/// [`ChunkCheck::add`], bad ones with [`ChunkCheck::add_bad`]), then judged
/// against the earlier runs' marks for [`ChunkCheck::wanted`].
#[derive(Default)]
pub struct ChunkCheck {
    entries: Vec<RowMarks>,
}

/// A run judged: every problem of its rows in file order (a bad row's own,
/// a good row's file-wide ones), the marks it adds, and its children still
/// to be judged.
#[derive(Debug, Default)]
pub struct ChunkVerdict {
    pub problems: Vec<RowProblem>,
    pub marks: Vec<Mark>,
    pub references: Vec<Reference>,
}

impl ChunkCheck {
    /// A row that passed [`super::validate_row`].
    pub fn add(&mut self, person: &RosterPerson) {
        self.entries.push(RowMarks::Good {
            row: person.row,
            key: fingerprint(&person.key),
            pupil: person.role == RosterRole::Pupil,
            snils: person.snils.as_ref().map(|s| fingerprint(s.digits())),
            login: person.login.as_deref().map(fingerprint),
            children: person.children.clone(),
        });
    }

    /// A row that failed its own checks, with its problems.
    pub fn add_bad(&mut self, raw: &RawRow, problems: Vec<RowProblem>) {
        let key = raw.get(Column::Key).map(|key| {
            let pupil = raw
                .get(Column::Role)
                .and_then(RosterRole::parse)
                .is_some_and(|r| r == RosterRole::Pupil);
            (fingerprint(key), pupil)
        });
        let snils = raw
            .get(Column::Snils)
            .and_then(|s| Snils::parse(s).ok())
            .map(|s| fingerprint(s.digits()));
        self.entries.push(RowMarks::Bad {
            row: raw.row,
            problems,
            key,
            snils,
        });
    }

    /// Rows in the run.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The marks of earlier runs this run needs, sorted, each once.
    pub fn wanted(&self) -> Vec<(MarkKind, u64)> {
        let mut wanted = Vec::new();
        for entry in &self.entries {
            match entry {
                RowMarks::Good {
                    key,
                    snils,
                    login,
                    children,
                    ..
                } => {
                    wanted.push((MarkKind::Key, *key));
                    wanted.extend(snils.map(|s| (MarkKind::Snils, s)));
                    wanted.extend(login.map(|l| (MarkKind::Login, l)));
                    wanted.extend(children.iter().map(|c| (MarkKind::Key, fingerprint(c))));
                }
                RowMarks::Bad { key, snils, .. } => {
                    wanted.extend(key.map(|(k, _)| (MarkKind::Key, k)));
                    wanted.extend(snils.map(|s| (MarkKind::Snils, s)));
                }
            }
        }
        wanted.sort_unstable();
        wanted.dedup();
        wanted
    }

    /// Judges the run's rows in order; `earlier` holds the earlier runs'
    /// marks among [`ChunkCheck::wanted`] (others are ignored).
    pub fn judge(self, earlier: &[Mark]) -> ChunkVerdict {
        let mut seen = Seen {
            marks: earlier
                .iter()
                .map(|m| ((m.kind, m.fingerprint), (m.first_row, m.pupil)))
                .collect(),
            added: Vec::new(),
        };
        let mut problems = Vec::new();
        let mut references = Vec::new();
        for entry in self.entries {
            match entry {
                RowMarks::Good {
                    row,
                    key,
                    pupil,
                    snils,
                    login,
                    children,
                } => {
                    let mut problem = |column, problem| {
                        problems.push(RowProblem {
                            row,
                            column: Some(column),
                            problem,
                        })
                    };
                    if let Some(first_row) = seen.first(MarkKind::Key, key, row, pupil) {
                        problem(Column::Key, Problem::DuplicateKey { first_row });
                    }
                    if let Some(first_row) =
                        snils.and_then(|s| seen.first(MarkKind::Snils, s, row, false))
                    {
                        problem(Column::Snils, Problem::DuplicateSnils { first_row });
                    }
                    if login
                        .and_then(|l| seen.first(MarkKind::Login, l, row, false))
                        .is_some()
                    {
                        problem(Column::Login, Problem::LoginTaken);
                    }
                    // A key's first row decides, so an earlier one (the
                    // row's own included) can be judged now.
                    for child in children {
                        match seen.marks.get(&(MarkKind::Key, fingerprint(&child))) {
                            Some((_, true)) => {}
                            Some((_, false)) => {
                                problem(Column::Children, Problem::ChildNotPupil { child })
                            }
                            None => references.push(Reference { row, child }),
                        }
                    }
                }
                RowMarks::Bad {
                    row,
                    problems: own,
                    key,
                    snils,
                } => {
                    problems.extend(own);
                    if let Some((key, pupil)) = key {
                        seen.first(MarkKind::Key, key, row, pupil);
                    }
                    if let Some(snils) = snils {
                        seen.first(MarkKind::Snils, snils, row, false);
                    }
                }
            }
        }
        ChunkVerdict {
            problems,
            marks: seen.added,
            references,
        }
    }
}

/// The marks a run is judged against, and those it adds.
struct Seen {
    marks: HashMap<(MarkKind, u64), (u64, bool)>,
    added: Vec<Mark>,
}

impl Seen {
    /// The first row with the mark if an earlier row had it; otherwise
    /// this row is the first, and `None`.
    fn first(&mut self, kind: MarkKind, fingerprint: u64, row: u64, pupil: bool) -> Option<u64> {
        match self.marks.entry((kind, fingerprint)) {
            Entry::Occupied(first) => Some(first.get().0),
            Entry::Vacant(slot) => {
                slot.insert((row, pupil));
                self.added.push(Mark {
                    kind,
                    fingerprint,
                    first_row: row,
                    pupil,
                });
                None
            }
        }
    }
}

/// The file-wide checks with the marks in memory: feed every row (good or
/// not) in file order with [`FileCheck::add`] or [`FileCheck::add_key_only`],
/// then call [`FileCheck::finish`]. The import cuts the file into runs
/// and keeps the marks in the database instead; this is the same check
/// for a file held whole.
#[derive(Default)]
pub struct FileCheck {
    marks: HashMap<(MarkKind, u64), Mark>,
    references: Vec<Reference>,
}

impl FileCheck {
    /// Registers a row that passed [`super::validate_row`]; returns its
    /// file-wide problems (a key, SNILS or login seen before, a child seen
    /// before who is not a pupil).
    pub fn add(&mut self, person: &RosterPerson) -> Vec<RowProblem> {
        let mut chunk = ChunkCheck::default();
        chunk.add(person);
        self.judge(chunk)
    }

    /// Registers the key and SNILS of a row that failed its own checks, so
    /// that a later row repeating them is still reported.
    pub fn add_key_only(&mut self, raw: &RawRow) {
        let mut chunk = ChunkCheck::default();
        chunk.add_bad(raw, Vec::new());
        self.judge(chunk);
    }

    /// Judges a run against the marks so far and keeps its marks.
    pub fn judge(&mut self, chunk: ChunkCheck) -> Vec<RowProblem> {
        let earlier: Vec<Mark> = chunk
            .wanted()
            .iter()
            .filter_map(|wanted| self.marks.get(wanted).copied())
            .collect();
        let verdict = chunk.judge(&earlier);
        for mark in verdict.marks {
            self.marks.insert((mark.kind, mark.fingerprint), mark);
        }
        self.references.extend(verdict.references);
        verdict.problems
    }

    /// Problems only the whole file shows: children that are not there or
    /// not pupils.
    pub fn finish(self) -> Vec<RowProblem> {
        let marks = self.marks;
        self.references
            .into_iter()
            .filter_map(|reference| {
                let first = marks
                    .get(&(MarkKind::Key, reference.fingerprint()))
                    .map(|m| m.pupil);
                reference.judge(first)
            })
            .collect()
    }
}
