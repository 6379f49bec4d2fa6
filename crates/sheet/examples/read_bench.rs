//! How long a roster takes to read, and the memory it takes.
//!
//! `cargo run -p esia-link-sheet --release --example read_bench` writes a
//! 2,000-row and a 100,000-row roster as XLSX (rust_xlsxwriter) and as a Windows-1251 CSV,
//! then reads each in a fresh child process, so that the peak resident
//! memory (VmHWM) printed is the reader's alone: the file's bytes plus
//! whatever reading took, not what writing the fixture left behind.

// A test harness may panic: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use esia_link_sheet::{open, Limits};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const SURNAMES: [&str; 8] = [
    "Иванова",
    "Петров",
    "Сидорова",
    "Кузнецов",
    "Смирнова",
    "Попов",
    "Ёлкина",
    "Соколов",
];
const NAMES: [&str; 6] = ["Анна", "Пётр", "Мария", "Иван", "Ольга", "Алексей"];
const HEADER: [&str; 9] = [
    "Ключ",
    "Роль",
    "Фамилия",
    "Имя",
    "Отчество",
    "Дата рождения",
    "СНИЛС",
    "Класс",
    "Логин",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, command, path] = args.as_slice() {
        if command == "read" {
            return read(Path::new(path));
        }
    }
    let dir = std::env::temp_dir().join(format!("esia-link-sheet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for rows in [2_000, 100_000] {
        for path in [write_xlsx(&dir, rows)?, write_csv(&dir, rows)?] {
            let output = Command::new(std::env::current_exe()?)
                .arg("read")
                .arg(&path)
                .output()?;
            print!("{}", String::from_utf8_lossy(&output.stdout));
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
        }
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn row_values(index: u32) -> (String, &'static str, &'static str, String, u64, String) {
    let surname = SURNAMES[index as usize % SURNAMES.len()];
    let name = NAMES[index as usize % NAMES.len()];
    let snils = 10_000_000_000 + u64::from(index) * 7;
    let class = format!("{}{}", 1 + index % 11, ["А", "Б", "В"][index as usize % 3]);
    (
        format!("p{index:06}"),
        surname,
        name,
        class,
        snils,
        format!("user{index}"),
    )
}

fn write_xlsx(dir: &Path, rows: u32) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Список")?;
    let date = Format::new().set_num_format("dd.mm.yyyy");
    for (column, title) in HEADER.iter().enumerate() {
        sheet.write_string(0, column as u16, *title)?;
    }
    for index in 0..rows {
        let (key, surname, name, class, snils, login) = row_values(index);
        let row = index + 1;
        sheet.write_string(row, 0, &key)?;
        sheet.write_string(row, 1, "ученик")?;
        sheet.write_string(row, 2, surname)?;
        sheet.write_string(row, 3, name)?;
        sheet.write_string(row, 4, "Сергеевна")?;
        let born = ExcelDateTime::from_ymd(
            2008 + (index % 10) as u16,
            1 + (index % 12) as u8,
            1 + (index % 28) as u8,
        )?;
        sheet.write_datetime_with_format(row, 5, born, &date)?;
        sheet.write_number(row, 6, snils as f64)?;
        sheet.write_string(row, 7, &class)?;
        sheet.write_string(row, 8, &login)?;
    }
    let path = dir.join(format!("roster-{rows}.xlsx"));
    book.save(&path)?;
    Ok(path)
}

fn write_csv(dir: &Path, rows: u32) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let mut text = HEADER.join(";") + "\r\n";
    for index in 0..rows {
        let (key, surname, name, class, snils, login) = row_values(index);
        text.push_str(&format!(
            "{key};ученик;{surname};{name};Сергеевна;{:02}.{:02}.{};{snils};{class};{login}\r\n",
            1 + index % 28,
            1 + index % 12,
            2008 + index % 10
        ));
    }
    let path = dir.join(format!("roster-{rows}.csv"));
    std::fs::write(&path, encoding_rs::WINDOWS_1251.encode(&text).0)?;
    Ok(path)
}

/// In the child: read the file, walk every row, print the figures.
fn read(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let (rss_start, _) = memory()?;
    let bytes = std::fs::read(path)?;
    let started = Instant::now();
    let sheet = open(
        &bytes,
        path.file_name().and_then(|n| n.to_str()),
        &Limits::default(),
    )?;
    let format = sheet.format().describe(false);
    let mut rows = 0u32;
    let mut cells = 0usize;
    for row in sheet {
        let row = row?;
        rows += 1;
        cells += row.cells.iter().filter(|c| !c.is_empty()).count();
    }
    let elapsed = started.elapsed();
    let (_, peak) = memory()?;
    println!(
        "{:>18}  {:>7} KiB  {rows:>6} rows  {cells:>7} cells  {:>8.1} ms  peak RSS {:>6} KiB (process start {} KiB)  [{format}]",
        path.file_name().and_then(|n| n.to_str()).unwrap_or(""),
        bytes.len() / 1024,
        elapsed.as_secs_f64() * 1000.0,
        peak / 1024,
        rss_start / 1024,
    );
    Ok(())
}

/// (VmRSS, VmHWM) in bytes.
fn memory() -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    };
    Ok((
        field("VmRSS:").ok_or("no VmRSS")?,
        field("VmHWM:").ok_or("no VmHWM")?,
    ))
}
