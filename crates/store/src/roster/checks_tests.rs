//! A roster check's marks in its scratch database.

use chrono::NaiveDate;
use domain::roster::{validate_row, ChunkCheck, Column, FileCheck, RawRow, RowProblem};

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 1).expect("date")
}

fn person(row: u64, key: &str, role: &str, snils: Option<&str>, children: &str) -> RawRow {
    let mut raw = RawRow::new(row)
        .with(Column::Key, key)
        .with(Column::Role, role)
        .with(Column::Surname, "Новикова")
        .with(Column::GivenName, "Анна")
        .with(Column::BirthDate, "2014-09-01")
        .with(Column::Children, children);
    if role == "pupil" {
        raw.set(Column::Class, "5А");
    }
    if let Some(snils) = snils {
        raw.set(Column::Snils, snils);
    }
    raw
}

/// Every file-wide case, and rows bad alone, spread so that the cases
/// cross the runs' edges.
fn rows() -> Vec<RawRow> {
    vec![
        person(2, "m1", "parent", None, "p1; p2, p9"),
        person(3, "p1", "pupil", Some("212-312-412 87"), ""),
        person(4, "p1", "pupil", None, ""),
        person(5, "t1", "teacher", Some("212-312-412 87"), ""),
        person(6, "m2", "parent", None, "t1 p1 m2"),
        // Bad alone (no given name), yet its key and SNILS count.
        person(7, "p5", "pupil", Some("213-313-413 99"), "").with(Column::GivenName, ""),
        person(8, "p5", "pupil", Some("213-313-413 99"), ""),
        person(9, "m3", "parent", None, "p5 p2"),
        person(10, "p2", "teacher", None, ""),
        person(11, "l1", "teacher", None, "").with(Column::Login, "anna.n"),
        person(12, "l2", "teacher", None, "").with(Column::Login, "anna.n"),
    ]
}

/// The rows' problems with the marks in memory, the whole file at once.
fn in_memory(rows: &[RawRow]) -> Vec<RowProblem> {
    let mut check = FileCheck::default();
    let mut found = Vec::new();
    for raw in rows {
        match validate_row(raw, today()) {
            Ok(person) => found.extend(check.add(&person)),
            Err(problems) => {
                found.extend(problems);
                check.add_key_only(raw);
            }
        }
    }
    found.extend(check.finish());
    found
}

/// The same, `run` rows at a time with the marks in a scratch database;
/// the children left are read `page` at a time.
async fn on_disk(rows: &[RawRow], run: usize, page: usize) -> Vec<RowProblem> {
    let marks = CheckMarks::open().expect("scratch database");
    let mut found = Vec::new();
    let mut references = 0;
    for runs in rows.chunks(run) {
        let mut chunk = ChunkCheck::default();
        for raw in runs {
            match validate_row(raw, today()) {
                Ok(person) => chunk.add(&person),
                Err(problems) => chunk.add_bad(raw, problems),
            }
        }
        let earlier = marks.marks(chunk.wanted()).await.expect("marks");
        let verdict = chunk.judge(&earlier);
        let added = verdict.references.len() as u64;
        marks
            .add(verdict.marks, verdict.references, references)
            .await
            .expect("keep marks");
        references += added;
        found.extend(verdict.problems);
    }
    let mut after = None;
    loop {
        let pending = marks.unresolved(after, page).await.expect("children");
        let Some(last) = pending.last() else { break };
        after = Some(last.seq);
        found.extend(
            pending
                .into_iter()
                .filter_map(|p| p.reference.judge(p.first_is_pupil)),
        );
    }
    found
}

#[tokio::test]
async fn marks_on_disk_judge_a_file_as_marks_in_memory_do() {
    let rows = rows();
    let expected = in_memory(&rows);
    let codes: Vec<(u64, &str)> = expected.iter().map(|p| (p.row, p.problem.code())).collect();
    assert_eq!(
        codes,
        vec![
            (4, "duplicate_key"),
            (5, "duplicate_snils"),
            (6, "child_not_pupil"),
            (6, "child_not_pupil"),
            (7, "missing"),
            (8, "duplicate_key"),
            (8, "duplicate_snils"),
            (12, "login_taken"),
            (2, "child_not_pupil"),
            (2, "unknown_child"),
            (9, "child_not_pupil"),
        ],
        "the cases this test is about"
    );
    for (run, page) in [(1, 1), (2, 1), (3, 2), (4, 1000), (100, 1000)] {
        assert_eq!(
            on_disk(&rows, run, page).await,
            expected,
            "{run} rows a run, {page} children a page"
        );
    }
}

#[tokio::test]
async fn a_fingerprint_past_the_signed_range_reads_back_as_written() {
    let marks = CheckMarks::open().expect("scratch database");
    let mark = Mark {
        kind: MarkKind::Key,
        fingerprint: u64::MAX - 1,
        first_row: 2,
        pupil: true,
    };
    marks.add(vec![mark], Vec::new(), 0).await.expect("keep");
    let wanted = vec![
        (MarkKind::Key, mark.fingerprint),
        (MarkKind::Snils, mark.fingerprint),
    ];
    assert_eq!(marks.marks(wanted).await.expect("read"), vec![mark]);
}
