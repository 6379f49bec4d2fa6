//! Rows handed to one statement as a relation: a `VALUES` list on SQLite,
//! one JSON parameter on PostgreSQL.

use super::{Backend, Params};

/// Rows per statement: within SQLite's limit on parameters (32,766) at
/// the widest `VALUES` row (10 values), and short enough an `IN (...)` list
/// for PostgreSQL (65,535).
pub(super) const ROWS_PER_STATEMENT: usize = 1000;

/// The columns of the batches [`RowBatch`] sends.
pub(super) const ROSTER_COLUMNS: &[(&str, &str)] = &[
    ("id", "text"),
    ("roster_key", "text"),
    ("role", "text"),
    ("surname", "text"),
    ("given_name", "text"),
    ("patronymic", "text"),
    ("birth_date", "text"),
    ("snils", "text"),
    ("class_name", "text"),
    ("login", "text"),
];
pub(super) const PAIR_COLUMNS: &[(&str, &str)] = &[
    ("id", "text"),
    ("parent_key", "text"),
    ("child_key", "text"),
];
pub(super) const ACCOUNT_COLUMN: &[(&str, &str)] = &[("account_id", "text")];
pub(super) const CODE_COLUMNS: &[(&str, &str)] = &[("code_hash", "text"), ("account_id", "text")];

/// Rows handed to one statement as the relation `v`, the statement's first
/// placeholders. SQLite gets a `VALUES` list of bound values. PostgreSQL
/// gets one JSON parameter unpacked by `json_to_recordset`: one value to
/// send and a short statement planned in microseconds, where a `VALUES`
/// list of a thousand rows was ten thousand values to bind and convert and
/// a plan of its own for every batch.
pub(super) struct RowBatch {
    /// Column names and their PostgreSQL types.
    columns: &'static [(&'static str, &'static str)],
    rows: Vec<Vec<Option<String>>>,
}

impl RowBatch {
    pub(super) fn new(
        columns: &'static [(&'static str, &'static str)],
        capacity: usize,
    ) -> RowBatch {
        RowBatch {
            columns,
            rows: Vec::with_capacity(capacity),
        }
    }

    pub(super) fn push(&mut self, row: Vec<Option<String>>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// `column` equals one of the batch's values (a one-column batch). On
    /// PostgreSQL the values become an array first: `= ANY (array)` is a probe of an index on
    /// `column` per value whatever the planner believes of the table, where
    /// `IN (SELECT ...)` over a table filled in the last minute (no
    /// statistics yet) was planned as a scan of the whole index per batch.
    pub(super) fn matched_by(&self, column: &str, params: &mut Params) -> String {
        debug_assert_eq!(self.columns.len(), 1);
        if params.numbered {
            let (name, kind) = self.columns[0];
            format!(
                "{column} = ANY (ARRAY (SELECT {name} FROM json_to_recordset({}::json) AS r ({name} {kind})))",
                params.one()
            )
        } else {
            format!("{column} IN ({})", params.list(self.rows.len()))
        }
    }

    /// `v (...) AS (...)`, to follow `WITH`.
    pub(super) fn cte(&self, params: &mut Params) -> String {
        let names = self
            .columns
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>();
        if params.numbered {
            let typed = self
                .columns
                .iter()
                .map(|(name, kind)| format!("{name} {kind}"))
                .collect::<Vec<_>>();
            format!(
                "v AS (SELECT {} FROM json_to_recordset({}::json) AS r ({}))",
                names.join(", "),
                params.one(),
                typed.join(", ")
            )
        } else {
            format!(
                "v ({}) AS (VALUES {})",
                names.join(", "),
                params.rows(self.rows.len(), self.columns.len())
            )
        }
    }

    /// Binds the rows as [`RowBatch::cte`] wrote them for `backend`.
    pub(super) fn bind<'q>(
        self,
        backend: Backend,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        if backend == Backend::Postgres {
            return query.bind(self.to_json());
        }
        for row in self.rows {
            for value in row {
                query = query.bind(value);
            }
        }
        query
    }

    /// `[{"column": value, ...}, ...]`.
    pub(super) fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(self.rows.len() * 32 * self.columns.len());
        out.push(b'[');
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            for (j, ((name, _), cell)) in self.columns.iter().zip(row).enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.push(b'"');
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"\":");
                match cell {
                    // Writing a string into a Vec cannot fail.
                    Some(text) => {
                        let _ = serde_json::to_writer(&mut out, text);
                    }
                    None => out.extend_from_slice(b"null"),
                }
            }
            out.push(b'}');
        }
        out.push(b']');
        // Column names are ASCII and serde_json writes valid UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_reads_back_from_its_json_as_it_was_pushed() {
        let cases: &[&[Option<&str>]] = &[
            &[Some("plain"), None],
            &[Some("quote \" and backslash \\"), Some("")],
            &[Some("Ёлкина Анна-Мария"), Some("line\nbreak\ttab")],
            &[None, None],
        ];
        let mut batch = RowBatch::new(&[("a", "text"), ("b", "text")], cases.len());
        for row in cases {
            batch.push(row.iter().map(|v| v.map(str::to_string)).collect());
        }
        let parsed: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(&batch.to_json()).expect("valid JSON");
        assert_eq!(parsed.len(), cases.len());
        for (object, row) in parsed.iter().zip(cases) {
            for ((name, _), expected) in batch.columns.iter().zip(row.iter()) {
                assert_eq!(object[*name].as_str(), *expected, "column {name}");
            }
        }
        assert_eq!(RowBatch::new(ACCOUNT_COLUMN, 0).to_json(), "[]");
    }

    #[test]
    fn placeholders_follow_the_backend() {
        let mut batch = RowBatch::new(PAIR_COLUMNS, 2);
        batch.push(vec![Some("1".into()), Some("p".into()), Some("c".into())]);
        batch.push(vec![Some("2".into()), Some("p".into()), None]);
        let mut sqlite = Params::new(Backend::Sqlite);
        assert_eq!(
            batch.cte(&mut sqlite),
            "v (id, parent_key, child_key) AS (VALUES (?, ?, ?), (?, ?, ?))"
        );
        let mut postgres = Params::new(Backend::Postgres);
        assert_eq!(
            batch.cte(&mut postgres),
            "v AS (SELECT id, parent_key, child_key FROM json_to_recordset($1::json) \
             AS r (id text, parent_key text, child_key text))"
        );
        assert_eq!(postgres.one(), "$2", "the batch takes one placeholder");

        let mut ids = RowBatch::new(ACCOUNT_COLUMN, 2);
        ids.push(vec![Some("x".into())]);
        ids.push(vec![Some("y".into())]);
        assert_eq!(
            ids.matched_by("account_id", &mut Params::new(Backend::Sqlite)),
            "account_id IN (?, ?)"
        );
        assert!(ids
            .matched_by("account_id", &mut Params::new(Backend::Postgres))
            .starts_with(
                "account_id = ANY (ARRAY (SELECT account_id FROM json_to_recordset($1::json)"
            ));
    }
}
