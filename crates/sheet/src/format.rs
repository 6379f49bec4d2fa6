//! What an uploaded file turned out to be, for the import report.

/// The kind of file and how it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// An Excel workbook; `sheet` is the worksheet that was read.
    Xlsx { sheet: String },
    /// A text file with one row per line.
    Csv { encoding: Encoding, delimiter: char },
}

/// The text encoding a CSV file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// UTF-8 with a byte-order mark, as Excel's «CSV UTF-8» writes it.
    Utf8Bom,
    /// What Excel's plain «CSV» writes on a Russian Windows.
    Windows1251,
    /// Excel's «Unicode text» (UTF-16 with a byte-order mark).
    Utf16,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 (BOM)",
            Encoding::Windows1251 => "Windows-1251",
            Encoding::Utf16 => "UTF-16",
        }
    }
}

impl Format {
    /// One line for the import report, e.g. «CSV, кодировка Windows-1251,
    /// разделитель — точка с запятой».
    pub fn describe(&self, russian: bool) -> String {
        match (self, russian) {
            (Format::Xlsx { sheet }, true) => format!("книга Excel (.xlsx), лист «{sheet}»"),
            (Format::Xlsx { sheet }, false) => format!("Excel workbook (.xlsx), sheet \"{sheet}\""),
            (
                Format::Csv {
                    encoding,
                    delimiter,
                },
                true,
            ) => format!(
                "CSV, кодировка {}, разделитель — {}",
                encoding.name(),
                delimiter_name(*delimiter, true)
            ),
            (
                Format::Csv {
                    encoding,
                    delimiter,
                },
                false,
            ) => format!(
                "CSV, {} encoding, separated by {}",
                encoding.name(),
                delimiter_name(*delimiter, false)
            ),
        }
    }
}

pub(crate) fn delimiter_name(delimiter: char, russian: bool) -> String {
    match (delimiter, russian) {
        (';', true) => "точка с запятой".into(),
        (';', false) => "semicolons".into(),
        (',', true) => "запятая".into(),
        (',', false) => "commas".into(),
        ('\t', true) => "табуляция".into(),
        ('\t', false) => "tabs".into(),
        (other, true) => format!("знак «{other}»"),
        (other, false) => format!("\"{other}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_name_encoding_and_delimiter() {
        let csv = Format::Csv {
            encoding: Encoding::Windows1251,
            delimiter: ';',
        };
        assert_eq!(
            csv.describe(true),
            "CSV, кодировка Windows-1251, разделитель — точка с запятой"
        );
        assert_eq!(
            csv.describe(false),
            "CSV, Windows-1251 encoding, separated by semicolons"
        );
        let xlsx = Format::Xlsx {
            sheet: "5А".into()
        };
        assert_eq!(xlsx.describe(true), "книга Excel (.xlsx), лист «5А»");
    }
}
