//! What the school secretary reads: what is wrong, in their words, and what
//! to do in Excel to fix it.

use crate::cells::column_name;
use crate::error::{DocumentKind, SheetError, SheetInfo};
use crate::words::{delimiter_instrumental, genitive, number, plural, size};

/// Excel's own name of the format to save in, as its "Save as" dialog shows.
const SAVE_AS_XLSX_RU: &str = "«Книга Excel (*.xlsx)»";
const SAVE_AS_XLSX_EN: &str = "\"Excel Workbook (*.xlsx)\"";

impl SheetError {
    /// A plain-language explanation with how to fix it, in Russian or in
    /// English.
    pub fn text(&self, russian: bool) -> String {
        if russian {
            self.russian()
        } else {
            self.english()
        }
    }

    fn russian(&self) -> String {
        match self {
            SheetError::Empty { file_name } => format!(
                "{} пустой: в нём нет ни одной заполненной строки. Проверьте, что выбран нужный \
                 файл, и загрузите таблицу со списком.",
                file_ru(file_name)
            ),
            SheetError::FileTooLarge { bytes, limit } => format!(
                "Файл слишком большой: {}, а загрузить можно не больше {}. Удалите из книги лишние \
                 листы и картинки или разделите список на несколько файлов, например по классам.",
                size(*bytes, true),
                size(*limit, true)
            ),
            SheetError::OldExcel { file_name } => format!(
                "{} сохранён в старом формате Excel 97–2003 (.xls), такой файл прочитать не \
                 получится. Откройте его в Excel, выберите «Файл» → «Сохранить как» и тип файла \
                 {SAVE_AS_XLSX_RU} (подойдёт и «CSV UTF-8»), затем загрузите новый файл.",
                file_ru(file_name)
            ),
            SheetError::PasswordProtected { file_name } => format!(
                "{} защищён паролем, поэтому прочитать его не получится. Откройте его в Excel, \
                 снимите пароль («Файл» → «Сведения» → «Защитить книгу» → «Зашифровать с \
                 использованием пароля», сотрите пароль и нажмите «ОК»), сохраните файл и \
                 загрузите его снова.",
                file_ru(file_name)
            ),
            SheetError::OtherDocument { kind, file_name } => {
                other_document_ru(*kind, &file_ru(file_name))
            }
            SheetError::NotText { file_name } => format!(
                "{} не похож на таблицу: это не книга Excel и не текстовый файл CSV. Откройте \
                 список в Excel, сохраните его как {SAVE_AS_XLSX_RU} или «CSV UTF-8» и \
                 загрузите этот файл.",
                file_ru(file_name)
            ),
            SheetError::Damaged { file_name, .. } => format!(
                "{} повреждён или записан с ошибками, прочитать его не получилось. Откройте его в \
                 Excel, сохраните заново как {SAVE_AS_XLSX_RU} и загрузите ещё раз. Если и Excel \
                 его не открывает, возьмите другую копию файла.",
                file_ru(file_name)
            ),
            SheetError::UnpackedTooLarge { limit } => format!(
                "Файл Excel хранит таблицу в сжатом виде, а после распаковки этот файл занимает больше \
                 {} — столько загрузить нельзя. Обычно так бывает из-за лишних листов или тысяч \
                 пустых, но отформатированных строк. Скопируйте только таблицу со списком в новую \
                 книгу или сохраните её как «CSV UTF-8».",
                size(*limit, true)
            ),
            SheetError::SeveralSheets { sheets } => format!(
                "В файле {} {} с данными: {}. Загрузить можно книгу только с одним листом: удалите \
                 лишние листы или сохраните нужный лист как «CSV UTF-8».",
                sheets.len(),
                plural(sheets.len() as u64, "лист", "листа", "листов"),
                sheet_list(sheets, true)
            ),
            SheetError::Formula { cell, .. } => format!(
                "В ячейке {cell} стоит формула, а нужно само значение. Выделите таблицу, \
                 скопируйте её и вставьте на то же место через «Специальная вставка» → \
                 «Значения», затем сохраните файл и загрузите снова."
            ),
            SheetError::TooManyRows { row, limit } => format!(
                "В таблице слишком много строк: за один раз можно загрузить не больше {} {} \
                 с данными, а строка {} уже лишняя. Разделите список на несколько файлов, \
                 например по классам, и загрузите их по очереди.",
                number(u64::from(*limit)),
                genitive(u64::from(*limit), "строки", "строк"),
                number(u64::from(*row))
            ),
            SheetError::TooManyColumns {
                row,
                cell,
                limit,
                delimiter,
            } => {
                let mut text = format!(
                    "В строке {} заполнена ячейка {cell}, а таблица может занимать не больше {} \
                     {} (до столбца {}). Удалите лишние столбцы справа от таблицы или очистите \
                     эту ячейку.",
                    number(u64::from(*row)),
                    limit,
                    genitive(u64::from(*limit), "столбца", "столбцов"),
                    column_name(limit.saturating_sub(1))
                );
                if let Some(delimiter) = delimiter {
                    text.push_str(&format!(
                        " Если столбцов в таблице на самом деле меньше, пересохраните её из Excel \
                         как «CSV UTF-8»: в этом файле столбцы разделены {}, и, похоже, этот знак \
                         встречается внутри ячеек.",
                        delimiter_instrumental(*delimiter)
                    ));
                }
                text
            }
            SheetError::CellTooLong { cell, limit, .. } => format!(
                "В ячейке {cell} слишком длинный текст: больше {} {}. Проверьте, не попал ли в неё \
                 текст из соседних ячеек, и сократите его.",
                number(*limit as u64),
                genitive(*limit as u64, "символа", "символов")
            ),
        }
    }

    fn english(&self) -> String {
        match self {
            SheetError::Empty { file_name } => format!(
                "{} is empty: it has no filled row. Check that you chose the right file and \
                 upload the table with the list.",
                file_en(file_name)
            ),
            SheetError::FileTooLarge { bytes, limit } => format!(
                "The file is too large: {}, and the limit is {}. Remove extra sheets and pictures \
                 from the workbook, or split the list into several files, for example by class.",
                size(*bytes, false),
                size(*limit, false)
            ),
            SheetError::OldExcel { file_name } => format!(
                "{} is in the old Excel 97-2003 format (.xls), which cannot be read. Open it in \
                 Excel, choose File → Save As, pick {SAVE_AS_XLSX_EN} (or \"CSV UTF-8\"), and \
                 upload the new file.",
                file_en(file_name)
            ),
            SheetError::PasswordProtected { file_name } => format!(
                "{} is protected with a password, so it cannot be read. Open it in Excel, remove \
                 the password (File → Info → Protect Workbook → Encrypt with Password, clear the \
                 password, OK), save it and upload it again.",
                file_en(file_name)
            ),
            SheetError::OtherDocument { kind, file_name } => {
                other_document_en(*kind, &file_en(file_name))
            }
            SheetError::NotText { file_name } => format!(
                "{} does not look like a table: it is neither an Excel workbook nor a CSV text \
                 file. Open the list in Excel, save it as {SAVE_AS_XLSX_EN} or \"CSV UTF-8\", and \
                 upload that file.",
                file_en(file_name)
            ),
            SheetError::Damaged { file_name, .. } => format!(
                "{} is damaged or was written with errors, and could not be read. Open it in \
                 Excel, save it again as {SAVE_AS_XLSX_EN} and upload it again. If Excel cannot \
                 open it either, use another copy of the file.",
                file_en(file_name)
            ),
            SheetError::UnpackedTooLarge { limit } => format!(
                "An Excel file stores its tables compressed, and this one unpacks to more than \
                 {}, which is more than can be uploaded. This usually comes from extra sheets or \
                 thousands of empty but formatted rows. Copy just the table with the list into a \
                 new workbook, or save it as \"CSV UTF-8\".",
                size(*limit, false)
            ),
            SheetError::SeveralSheets { sheets } => format!(
                "The file has {} sheets with data: {}. Only a workbook with one sheet can be \
                 uploaded: delete the other sheets, or save the sheet you need as \"CSV UTF-8\".",
                sheets.len(),
                sheet_list(sheets, false)
            ),
            SheetError::Formula { cell, .. } => format!(
                "Cell {cell} holds a formula; the value itself is needed. Select the table, copy \
                 it and paste it in the same place with Paste Special → Values, then save the \
                 file and upload it again."
            ),
            SheetError::TooManyRows { row, limit } => format!(
                "The table has too many rows: at most {limit} rows of data can be uploaded at \
                 once, and row {row} is one too many. Split the list into several files, for \
                 example by class, and upload them one after another."
            ),
            SheetError::TooManyColumns {
                row,
                cell,
                limit,
                delimiter,
            } => {
                let mut text = format!(
                    "Row {row} has cell {cell} filled in, but the table may take at most {limit} \
                     columns (up to column {}). Delete the extra columns to the right of the \
                     table or clear that cell.",
                    column_name(limit.saturating_sub(1))
                );
                if let Some(delimiter) = delimiter {
                    text.push_str(&format!(
                        " If the table really has fewer columns, save it again from Excel as \
                         \"CSV UTF-8\": this file separates columns with {}, and that character \
                         seems to occur inside cells.",
                        crate::format::delimiter_name(*delimiter, false)
                    ));
                }
                text
            }
            SheetError::CellTooLong { cell, limit, .. } => format!(
                "Cell {cell} holds too long a text: more than {limit} characters. Check whether \
                 text from neighbouring cells got into it, and shorten it."
            ),
        }
    }
}

fn other_document_ru(kind: DocumentKind, file: &str) -> String {
    match kind {
        DocumentKind::Ods => format!(
            "{file} сохранён в формате OpenDocument (.ods), а нужна книга Excel или CSV. Откройте \
             его в той же программе (LibreOffice, «МойОфис» или другой) и сохраните как \
             {SAVE_AS_XLSX_RU} или CSV."
        ),
        DocumentKind::Word => format!(
            "{file} — документ Word, а не таблица. Перенесите список в Excel, по одному человеку \
             в строке, и сохраните как {SAVE_AS_XLSX_RU}."
        ),
        DocumentKind::Presentation => format!(
            "{file} — презентация, а не таблица. Загрузите таблицу Excel (.xlsx) или CSV со \
             списком."
        ),
        DocumentKind::Xlsb => format!(
            "{file} сохранён как двоичная книга Excel (.xlsb). Откройте его в Excel и сохраните \
             как {SAVE_AS_XLSX_RU}."
        ),
        DocumentKind::Pdf => format!(
            "{file} — это PDF, таблицу из него не прочитать. Загрузите исходную таблицу Excel \
             (.xlsx) или CSV, из которой сделан этот PDF."
        ),
        DocumentKind::WebPage => format!(
            "{file} — веб-страница или таблица в формате XML, хотя название может оканчиваться \
             на .xls (так выгружают списки некоторые программы). Откройте его в Excel и \
             сохраните как {SAVE_AS_XLSX_RU}."
        ),
        DocumentKind::Archive => format!(
            "{file} — архив, а не таблица. Распакуйте его и загрузите лежащий в нём файл Excel \
             (.xlsx) или CSV."
        ),
    }
}

fn other_document_en(kind: DocumentKind, file: &str) -> String {
    match kind {
        DocumentKind::Ods => format!(
            "{file} is an OpenDocument spreadsheet (.ods); an Excel workbook or CSV is needed. \
             Open it in the same program (LibreOffice or another) and save it as \
             {SAVE_AS_XLSX_EN} or CSV."
        ),
        DocumentKind::Word => format!(
            "{file} is a Word document, not a table. Move the list to Excel, one person per row, \
             and save it as {SAVE_AS_XLSX_EN}."
        ),
        DocumentKind::Presentation => format!(
            "{file} is a presentation, not a table. Upload an Excel table (.xlsx) or CSV with \
             the list."
        ),
        DocumentKind::Xlsb => format!(
            "{file} is an Excel binary workbook (.xlsb). Open it in Excel and save it as \
             {SAVE_AS_XLSX_EN}."
        ),
        DocumentKind::Pdf => format!(
            "{file} is a PDF; a table cannot be read from it. Upload the Excel table (.xlsx) or \
             CSV the PDF was made from."
        ),
        DocumentKind::WebPage => format!(
            "{file} is a web page or an XML table, even if its name ends in .xls (some programs \
             export lists that way). Open it in Excel and save it as {SAVE_AS_XLSX_EN}."
        ),
        DocumentKind::Archive => format!(
            "{file} is an archive, not a table. Unpack it and upload the Excel file (.xlsx) or \
             CSV inside."
        ),
    }
}

fn file_ru(name: &Option<String>) -> String {
    match name {
        Some(name) => format!("Файл «{name}»"),
        None => "Файл".into(),
    }
}

fn file_en(name: &Option<String>) -> String {
    match name {
        Some(name) => format!("The file \"{name}\""),
        None => "The file".into(),
    }
}

/// «Класс 5А», «Лист2» и «Лист3» (скрытый)
fn sheet_list(sheets: &[SheetInfo], russian: bool) -> String {
    let names: Vec<String> = sheets
        .iter()
        .map(|sheet| match (sheet.hidden, russian) {
            (false, true) => format!("«{}»", sheet.name),
            (true, true) => format!("«{}» (скрытый)", sheet.name),
            (false, false) => format!("\"{}\"", sheet.name),
            (true, false) => format!("\"{}\" (hidden)", sheet.name),
        })
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!(
                "{} {} {last}",
                rest.join(", "),
                if russian { "и" } else { "and" }
            )
        }
        _ => names.concat(),
    }
}
