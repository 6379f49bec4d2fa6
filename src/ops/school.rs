//! `esia-link school add|token`, `esia-link roster import` and
//! `esia-link codes issue`: the school side from the command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use ::texts::prelude::*;
use app::school::roster::{
    upload_limits, FileSource, ImportOptions, ImportReport, Phase, Progress, RosterFormat,
    RosterSource, SheetSource,
};
use app::school::CodeScope;
use app::school::IssuedCode;
use config::Config;
use i18n::Lang;

const CLI_ACTOR: &str = "cli";

pub async fn add_school(config: Config, region: i64, name: &str, lang: Lang) -> anyhow::Result<()> {
    if !config.regions.iter().any(|r| i64::from(r.code) == region) {
        anyhow::bail!(
            "{} {region}",
            lang.pick(
                "в конфигурации ([[regions]]) нет региона",
                "the configuration ([[regions]]) has no region"
            )
        );
    }
    let (app, _) = crate::startup::build_tool_app(config).await?;
    let school = app.school().create_school(region, name, CLI_ACTOR).await?;
    println!("{}", school.id);
    Ok(())
}

pub async fn add_token(
    config: Config,
    school: Uuid,
    label: &str,
    lang: Lang,
) -> anyhow::Result<()> {
    let (app, _) = crate::startup::build_tool_app(config).await?;
    let token = app
        .school()
        .create_school_token(school, label, CLI_ACTOR)
        .await?;
    eprintln!(
        "{}",
        lang.pick(
            "Токен показан один раз: сохраните его. Передавайте как «Authorization: Bearer …».",
            "The token is shown once: keep it. Send it as \"Authorization: Bearer ...\"."
        )
    );
    println!("{token}");
    Ok(())
}

pub struct ImportArgs {
    pub file: PathBuf,
    pub school: Uuid,
    pub partial: bool,
    pub dry_run: bool,
    pub json: bool,
}

/// Progress on stderr: a bar on a terminal, a plain line every 5 s
/// otherwise (CI logs, `nohup`).
struct ProgressOut {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    last_line: Mutex<Instant>,
    lang: Lang,
}

impl ProgressOut {
    fn new(total: Option<u64>, lang: Lang) -> ProgressOut {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total.unwrap_or(0));
            let template = match lang {
                Lang::Ru => "{msg} {bar:30} {pos}/{len} строк, {per_sec}, осталось {eta}",
                Lang::En => "{msg} {bar:30} {pos}/{len} rows, {per_sec}, {eta} left",
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        ProgressOut {
            bar,
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            lang,
        }
    }

    fn phase_name(&self, phase: Phase) -> &'static str {
        match phase {
            Phase::Checking => self.lang.pick("проверка", "checking"),
            Phase::Writing => self.lang.pick("запись", "writing"),
            Phase::Linking => self.lang.pick("связи", "linking"),
        }
    }

    fn report(&self, progress: Progress) {
        if let Some(bar) = &self.bar {
            if bar.message() != self.phase_name(progress.phase) {
                bar.set_message(self.phase_name(progress.phase));
                bar.reset();
            }
            bar.set_position(progress.rows);
            return;
        }
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed() >= Duration::from_secs(5) {
            *last = Instant::now();
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            eprintln!(
                "{}: {} {} ({:.0}/s)",
                self.phase_name(progress.phase),
                progress.rows,
                self.lang.pick("строк", "rows"),
                progress.rows as f64 / secs
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Data rows in a CSV file (lines after the header), for the time left.
fn count_rows(path: &PathBuf) -> Option<u64> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).ok()?;
    let lines = std::io::BufReader::new(file).split(b'\n').count() as u64;
    Some(lines.saturating_sub(1))
}

/// Exit status: success only when every row was good and written (or
/// checked, with `--dry-run`).
pub async fn import(config: Config, args: ImportArgs, lang: Lang) -> anyhow::Result<bool> {
    let format = match args.file.extension().and_then(|e| e.to_str()) {
        Some("json") => RosterFormat::Json,
        Some(e) if e.eq_ignore_ascii_case("xlsx") => RosterFormat::Sheet,
        _ => RosterFormat::Csv,
    };
    let total = (format == RosterFormat::Csv)
        .then(|| count_rows(&args.file))
        .flatten();
    let limits = upload_limits(&config);
    let (app, _) = crate::startup::build_tool_app(config).await?;
    // A workbook is read whole through the spreadsheet reader (within the
    // upload limits); CSV and JSON are streamed from the file per pass.
    let source: Box<dyn RosterSource> = match format {
        RosterFormat::Sheet => Box::new(SheetSource {
            bytes: std::fs::read(&args.file)?.into(),
            limits,
        }),
        _ => Box::new(FileSource {
            path: args.file.clone(),
            format,
        }),
    };
    let source = source.as_ref();
    let out = ProgressOut::new(total, lang);
    let options = ImportOptions {
        partial: args.partial,
        dry_run: args.dry_run,
    };
    let report = app
        .school()
        .import_roster(args.school, source, &options, CLI_ACTOR, &|p| out.report(p))
        .await;
    out.finish();
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json(lang))?);
    } else {
        print_report(&report, args.dry_run, lang);
    }
    Ok(report.ok())
}

fn print_report(report: &ImportReport, dry_run: bool, lang: Lang) {
    if let Some(problem) = &report.file_problem {
        println!("{}", problem.message(lang));
        println!(
            "{}",
            lang.pick("Ничего не записано.", "Nothing was written.")
        );
        return;
    }
    println!(
        "{}: {}, {}: {}, {}: {}",
        lang.pick("строк", "rows"),
        report.rows,
        lang.pick("без ошибок", "good"),
        report.good_rows,
        lang.pick("ошибок", "problems"),
        report.problems_total
    );
    for problem in &report.problems {
        println!("  {}", problem.describe(lang));
    }
    if report.problems_total > report.problems.len() as u64 {
        println!(
            "  … {} {}",
            report.problems_total - report.problems.len() as u64,
            lang.pick("ещё", "more")
        );
    }
    for warning in &report.warnings {
        println!("  ! {}", warning.message(lang));
    }
    if report.warnings_total > report.warnings.len() as u64 {
        println!(
            "  ! … {} {}",
            report.warnings_total - report.warnings.len() as u64,
            lang.pick("ещё", "more")
        );
    }
    if !report.written {
        let why = if dry_run {
            lang.pick(
                "Только проверка: ничего не записано.",
                "Check only: nothing was written.",
            )
        } else if report.problems_total > 0 {
            lang.pick(
                "Ничего не записано: исправьте строки выше или запустите с --partial.",
                "Nothing was written: fix the rows above or run with --partial.",
            )
        } else {
            lang.pick("Нечего записывать.", "Nothing to write.")
        };
        println!("{why}");
        return;
    }
    let ranges: Vec<String> = report
        .written_rows
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    println!(
        "{}: {} — {}, {} — {}, {} — {}, {} — {}; {} {}",
        lang.pick("Записано", "Written"),
        lang.pick("новых", "new"),
        report.created,
        lang.pick("обновлено", "updated"),
        report.updated,
        lang.pick("без изменений", "unchanged"),
        report.unchanged,
        lang.pick("новых связей родитель–ребёнок", "new parent-child links"),
        report.relationships_added,
        lang.pick("строки", "rows"),
        ranges.join(", ")
    );
}

pub struct CodesArgs {
    pub school: Uuid,
    pub class: Option<String>,
    pub account: Option<Uuid>,
    pub days: Option<u32>,
    /// CSV of the codes (stdout when absent).
    pub out: Option<PathBuf>,
    /// A printable HTML page of invitation sheets, one per person.
    pub sheets: Option<PathBuf>,
    /// The same sheets as a PDF.
    pub pdf: Option<PathBuf>,
}

/// Issues codes and writes the only copy of their plaintexts where asked.
pub async fn issue_codes(config: Config, args: CodesArgs, lang: Lang) -> anyhow::Result<()> {
    let public_url = config.server.public_url.trim_end_matches('/').to_string();
    let days = args.days.unwrap_or(config.activation.code_days);
    let (app, _) = crate::startup::build_tool_app(config).await?;
    let school = app.school().get(args.school).await?;
    let mut csv: Box<dyn Write + Send> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::stdout()),
    };
    let mut sheets = match &args.sheets {
        Some(path) => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
            file.write_all(super::sheets::header(&school.name).as_bytes())?;
            Some(file)
        }
        None => None,
    };
    let mut pdf = match &args.pdf {
        Some(path) => Some((
            std::fs::File::create(path)?,
            super::sheets_pdf::SheetsPdf::new(&school.name)?,
        )),
        None => None,
    };
    writeln!(csv, "key,role,class,full_name,code,activation_url")?;
    let mut failure: Option<std::io::Error> = None;
    let scope = CodeScope {
        class_name: args.class.clone(),
        account_id: args.account,
    };
    let mut sink = |batch: &[IssuedCode]| {
        for issued in batch {
            let url = format!("{public_url}/activate?code={}", issued.code);
            let t = &issued.target;
            let line = format!(
                "{},{},{},\"{}\",{},{url}",
                t.roster_key.as_deref().unwrap_or_default(),
                t.role,
                t.class_name.as_deref().unwrap_or_default(),
                issued.full_name().replace('"', "\"\""),
                issued.code
            );
            let mut written = writeln!(csv, "{line}");
            if let Some(file) = sheets.as_mut() {
                written = written.and_then(|_| {
                    file.write_all(super::sheets::sheet(issued, &school.name, &url).as_bytes())
                });
            }
            if let Some((_, sheets)) = pdf.as_mut() {
                sheets.add(issued, &school.name, &url);
            }
            if let Err(e) = written {
                failure.get_or_insert(e);
            }
        }
    };
    let issued = app
        .school()
        .issue_codes(args.school, &scope, days, CLI_ACTOR, &mut sink)
        .await?;
    if let Some(file) = sheets.as_mut() {
        file.write_all(super::sheets::FOOTER.as_bytes())?;
        file.flush()?;
    }
    if let Some((mut file, sheets)) = pdf {
        let written = sheets
            .finish()
            .map_err(std::io::Error::other)
            .and_then(|bytes| file.write_all(&bytes));
        if let Err(e) = written {
            failure.get_or_insert(e);
        }
    }
    csv.flush()?;
    if let Some(e) = failure {
        anyhow::bail!(
            "{}: {e}",
            lang.pick(
                "коды выданы, но не записаны в файл; выдайте их заново",
                "the codes were issued but not written out; issue them again"
            )
        );
    }
    eprintln!("{} {issued}", lang.pick("Выдано кодов:", "Codes issued:"));
    Ok(())
}
