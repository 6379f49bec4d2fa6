//! Everything that can be wrong with an uploaded file. `Display` is for
//! logs (it never quotes cell contents); [`SheetError::text`] is for the
//! person who uploaded the file.

/// A document that is not a table we can read, recognised by its contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// OpenDocument spreadsheet (LibreOffice, МойОфис).
    Ods,
    /// A Word document, old or new.
    Word,
    Presentation,
    /// Excel's binary workbook (.xlsb).
    Xlsb,
    Pdf,
    /// An HTML page or Excel 2003 XML, often named `.xls` by export tools.
    WebPage,
    /// A zip (or other) archive holding something else.
    Archive,
}

/// A worksheet named in an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetInfo {
    pub name: String,
    /// Hidden sheets are easy to forget: the message says so.
    pub hidden: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    #[error("the file has no filled row")]
    Empty { file_name: Option<String> },

    #[error("the file has {bytes} bytes, over the limit of {limit}")]
    FileTooLarge { bytes: u64, limit: u64 },

    #[error("an Excel 97-2003 workbook (.xls)")]
    OldExcel { file_name: Option<String> },

    #[error("an encrypted (password-protected) workbook")]
    PasswordProtected { file_name: Option<String> },

    #[error("not a spreadsheet: {kind:?}")]
    OtherDocument {
        kind: DocumentKind,
        file_name: Option<String>,
    },

    #[error("neither a workbook nor text")]
    NotText { file_name: Option<String> },

    #[error("damaged workbook: {detail}")]
    Damaged {
        detail: String,
        file_name: Option<String>,
    },

    #[error("the workbook inflates to more than {limit} bytes")]
    UnpackedTooLarge { limit: u64 },

    #[error("{} sheets hold data", sheets.len())]
    SeveralSheets { sheets: Vec<SheetInfo> },

    #[error("cell {cell} holds a formula")]
    Formula { row: u32, cell: String },

    #[error("row {row} is past the limit of {limit} rows")]
    TooManyRows { row: u32, limit: u32 },

    #[error("cell {cell} is past the limit of {limit} columns")]
    TooManyColumns {
        row: u32,
        cell: String,
        limit: u32,
        /// For CSV: the delimiter the file was split on, since a wrong one
        /// is the usual reason for a row being too wide.
        delimiter: Option<char>,
    },

    #[error("cell {cell} has more than {limit} characters")]
    CellTooLong {
        row: u32,
        cell: String,
        limit: usize,
    },
}

impl SheetError {
    /// A problem with one row: the rows after it can still be read.
    pub fn is_row_problem(&self) -> bool {
        matches!(
            self,
            SheetError::Formula { .. }
                | SheetError::TooManyColumns { .. }
                | SheetError::CellTooLong { .. }
        )
    }

    /// The spreadsheet row the problem is on, if it is about one.
    pub fn row(&self) -> Option<u32> {
        match self {
            SheetError::Formula { row, .. }
            | SheetError::TooManyRows { row, .. }
            | SheetError::TooManyColumns { row, .. }
            | SheetError::CellTooLong { row, .. } => Some(*row),
            _ => None,
        }
    }

    /// Fills in the uploaded file's name where the message names the file.
    pub(crate) fn with_file_name(mut self, name: Option<&str>) -> SheetError {
        let slot = match &mut self {
            SheetError::Empty { file_name }
            | SheetError::OldExcel { file_name }
            | SheetError::PasswordProtected { file_name }
            | SheetError::OtherDocument { file_name, .. }
            | SheetError::NotText { file_name }
            | SheetError::Damaged { file_name, .. } => file_name,
            _ => return self,
        };
        if slot.is_none() {
            *slot = name.map(str::to_string);
        }
        self
    }

    pub(crate) fn damaged(detail: impl Into<String>) -> SheetError {
        SheetError::Damaged {
            detail: detail.into(),
            file_name: None,
        }
    }
}
