//! `esia-link bench school`: the school console's heavy steps, through the
//! same use cases its handlers call, on a scratch SQLite database.
//!
//! 1. A school's roster as an XLSX workbook, from the uploaded bytes (as
//!    the console receives them) to the dry-run report: the upload is kept
//!    for the "write" that may follow, then checked (`keep_upload`,
//!    `check_upload`); reading the multipart request and rendering the
//!    report's HTML are not timed. Then "write all", which the packet needs.
//! 2. A class packet: codes for a class's pupils and their parents
//!    (`issue_packet`) and its PDF (a cover page, then one sheet each).
//! 3. A large workbook (for a school of its own) through the background
//!    job the console runs for large files (`app::school::jobs`): the check
//!    job from the kept upload to its report, then the "write all" job,
//!    each with the process's peak resident memory before and after (freed
//!    memory handed back and the kernel's peak reset first, so that "after"
//!    is the job's own). The job's record is read every 20 ms, as its page
//!    would be.
//!
//! Rosters are groups of a pupil and their two parents (keys `p…`, `m…`,
//! `f…`), classes of `class_size` pupils: «1А», «2А» … «11А», «1Б» …

use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use uuid::Uuid;

use super::bench_roster::status_mib;
use app::school::console::SchoolAdmin;
use app::school::jobs::{JobKind, JobStart, JobState};
use app::school::CodeScope;
use app::App;
use config::Config;
use domain::snils::check_number;

const ACTOR: &str = "system:bench";
const HEADER: [&str; 9] = [
    "Ключ",
    "Роль",
    "Фамилия",
    "Имя",
    "Отчество",
    "Дата рождения",
    "СНИЛС",
    "Класс",
    "Дети",
];
/// (his, her) surname.
const SURNAMES: [(&str, &str); 8] = [
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Васильев", "Васильева"),
    ("Петров", "Петрова"),
    ("Соколов", "Соколова"),
    ("Михайлов", "Михайлова"),
];
const BOYS: [&str; 6] = ["Александр", "Дмитрий", "Максим", "Артём", "Илья", "Пётр"];
const GIRLS: [&str; 6] = ["Анна", "Мария", "Софья", "Ольга", "Дарья", "Алиса"];
const LETTERS: [&str; 10] = ["А", "Б", "В", "Г", "Д", "Е", "Ж", "З", "И", "К"];

/// The sizes; the defaults are the ones the issue asks about.
#[derive(Debug, Clone)]
pub struct SchoolBench {
    /// People in the school's roster (pupils and parents).
    pub people: u32,
    /// Pupils per class; the packet is for the first class, with two
    /// parents per pupil.
    pub class_size: u32,
    /// Rows of the large file.
    pub large_rows: u32,
}

impl Default for SchoolBench {
    fn default() -> SchoolBench {
        SchoolBench {
            people: 2000,
            class_size: 30,
            large_rows: 100_000,
        }
    }
}

/// A roster upload checked (and nothing written).
#[derive(Debug, Clone)]
pub struct UploadFigures {
    pub file_bytes: usize,
    pub rows: u64,
    pub problems: u64,
    /// Refused as a whole (over a limit, say), in the report's words.
    pub file_problem: Option<String>,
    pub seconds: f64,
    /// VmHWM (MiB) before and after the upload; `peak_reset` says whether
    /// the kernel's peak was reset before it, so that "after" is this
    /// upload's own peak.
    pub hwm_before_mib: f64,
    pub hwm_after_mib: f64,
    pub peak_reset: bool,
    /// Anonymous (heap) memory (MiB) before, and its peak sampled every
    /// 10 ms during the upload: VmHWM also counts the pages of the
    /// executable and of any mapped file.
    pub anon_before_mib: f64,
    pub anon_peak_mib: f64,
}

/// The figures, as printed.
#[derive(Debug, Clone)]
pub struct SchoolBenchReport {
    pub school: UploadFigures,
    pub write_seconds: f64,
    pub created: u64,
    pub packet_codes: usize,
    pub packet_pupils: usize,
    pub issue_seconds: f64,
    pub pdf_seconds: f64,
    pub pdf_bytes: usize,
    pub pdf_pages: usize,
    pub large: UploadFigures,
    /// The large file written by its "write all" job.
    pub large_write: UploadFigures,
}

/// `esia-link bench school`: a scratch directory and SQLite database,
/// removed afterwards.
pub async fn command(bench: SchoolBench) -> anyhow::Result<()> {
    let scratch = std::env::temp_dir().join(format!("esia-link-bench-school-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&scratch)?;
    let mut config = super::demo_base_config()?;
    config.log.filter = "error".into();
    config.notify.dir = scratch.join("outbox");
    config.database.url = config::Secret::new(format!(
        "sqlite://{}?mode=rwc",
        scratch.join("bench.db").display()
    ));
    let result = school(config, &bench).await;
    let _ = std::fs::remove_dir_all(&scratch);
    result.map(|_| ())
}

/// Builds the server's app on `config`'s database (two schools are added
/// to it), runs the three steps and prints the figures.
pub async fn school(mut config: Config, bench: &SchoolBench) -> anyhow::Result<SchoolBenchReport> {
    anyhow::ensure!(
        bench.class_size > 0
            && bench.people >= bench.class_size.saturating_mul(3)
            && bench.large_rows > 0,
        "the school needs at least one full class (3 × class size people) and the large file a row"
    );
    // The server's app (as the console runs in it), minus the login
    // providers no step needs.
    config.providers.clear();
    let limits = app::school::roster::upload_limits(&config);
    let (app, _) = crate::startup::build_app(config).await?;
    let app = Arc::new(app);
    let public_url = app.config().server.public_url.clone();
    println!(
        "school console benchmark (SQLite); upload limits {} MiB, {} rows",
        limits.max_file_bytes / (1024 * 1024),
        limits.max_rows
    );

    let admin = admin_of(&app, "Bench school").await?;
    let bytes = workbook(bench.people, bench.class_size, 0)?;
    let (school, id) = upload(&app, &admin, bytes, None).await?;
    anyhow::ensure!(
        school.problems == 0 && school.file_problem.is_none(),
        "the generated roster checks cleanly: {school:?}"
    );
    println!(
        "1. roster of {} people, XLSX {:.0} KiB: upload to dry-run report {:.2} s (aim ≤ 2 s), {} rows, {} problems",
        bench.people,
        school.file_bytes as f64 / 1024.0,
        school.seconds,
        school.rows,
        school.problems
    );
    let started = Instant::now();
    let written = app.school().write_upload(&admin, &id, false).await?;
    let write_seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        written.report.written,
        "the roster was written: {:?}",
        written.report
    );
    println!(
        "   then \"write all\": {} people created in {write_seconds:.2} s",
        written.report.created
    );

    let class = class_name(0);
    let started = Instant::now();
    let scope = CodeScope {
        class_name: Some(class.clone()),
        account_id: None,
    };
    let issued = app.school().issue_packet(&admin, &scope).await?;
    let issue_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let heading = format!(
        "{}, класс {class}: листы с кодами активации",
        admin.school_name
    );
    let pdf =
        invitations::packet::packet(&admin.school_name, &heading, &issued, &public_url, true)?;
    let pdf_seconds = started.elapsed().as_secs_f64();
    let packet_pupils = issued.iter().filter(|c| c.target.role == "pupil").count();
    let pdf_pages = pdf_pages(&pdf);
    println!(
        "2. class packet for {class}: {packet_pupils} pupils and {} parents, {:.2} s (aim ≤ 1 s): codes {:.2} s, PDF {:.2} s; {:.0} KiB, {pdf_pages} pages",
        issued.len() - packet_pupils,
        issue_seconds + pdf_seconds,
        issue_seconds,
        pdf_seconds,
        pdf.len() as f64 / 1024.0
    );

    // A school of its own, so that nothing of the first one matches.
    let large_admin = admin_of(&app, "Bench school (large file)").await?;
    let started = Instant::now();
    let bytes = workbook(bench.large_rows, bench.class_size, 1_000_000)?;
    let generated = started.elapsed().as_secs_f64();
    let (large, id) = upload(&app, &large_admin, bytes, Some(JobKind::Check)).await?;
    println!(
        "3. {} rows, XLSX {:.1} MiB (generated in {generated:.1} s), by the background job: upload to dry-run report {:.2} s, {} problems{}",
        bench.large_rows,
        large.file_bytes as f64 / (1024.0 * 1024.0),
        large.seconds,
        large.problems,
        large
            .file_problem
            .as_ref()
            .map(|p| format!("; refused: {p}"))
            .unwrap_or_default()
    );
    let large_write = by_job(&app, &large_admin, &id, 0, JobKind::WriteAll).await?;
    anyhow::ensure!(
        large_write.file_problem.is_none() && large_write.problems == 0,
        "the large file was written: {large_write:?}"
    );
    println!(
        "   then \"write all\" by the background job: {} rows in {:.2} s",
        large_write.rows, large_write.seconds
    );
    for (what, figures) in [
        ("the school roster (within the request)", &school),
        ("the large file's check job", &large),
        ("the large file's write job", &large_write),
    ] {
        println!(
            "   {what}: heap (RssAnon, sampled every 10 ms) {:.0} MiB before, peak {:.0} MiB, +{:.0} MiB; peak resident memory (VmHWM) {:.0} → {:.0} MiB, +{:.0} MiB ({})",
            figures.anon_before_mib,
            figures.anon_peak_mib,
            figures.anon_peak_mib - figures.anon_before_mib,
            figures.hwm_before_mib,
            figures.hwm_after_mib,
            figures.hwm_after_mib - figures.hwm_before_mib,
            if figures.peak_reset {
                "the peak reset to the resident size before"
            } else {
                "could not reset the peak: the process's peak so far"
            }
        );
    }
    Ok(SchoolBenchReport {
        school,
        write_seconds,
        created: written.report.created,
        packet_codes: issued.len(),
        packet_pupils,
        issue_seconds,
        pdf_seconds,
        pdf_bytes: pdf.len(),
        pdf_pages,
        large,
        large_write,
    })
}

/// A new school and its administrator, as the console sees them.
async fn admin_of(app: &App, name: &str) -> anyhow::Result<SchoolAdmin> {
    let region = app
        .config()
        .regions
        .first()
        .map(|r| i64::from(r.code))
        .ok_or_else(|| anyhow::anyhow!("the configuration lists no region"))?;
    let school = app.school().create_school(region, name, ACTOR).await?;
    Ok(SchoolAdmin {
        school_id: school.id,
        school_name: school.name,
        actor: ACTOR.to_string(),
        csrf: String::new(),
    })
}

/// What the console's upload handler does with a file's bytes: keeps
/// them for the "write" and checks them, within the request or (`job`)
/// by a background job; timed, with the memory peak. Returns the kept
/// upload's id too, for "write all".
async fn upload(
    app: &Arc<App>,
    admin: &SchoolAdmin,
    bytes: Vec<u8>,
    job: Option<JobKind>,
) -> anyhow::Result<(UploadFigures, String)> {
    let file_bytes = bytes.len();
    let measure = Measure::start();
    let id = app.school().keep_upload(admin, bytes.into()).await?;
    let report = match job {
        Some(kind) => run_job(app, admin, &id, kind).await?,
        None => {
            let bytes = app.school().kept_upload(admin, &id).await?;
            let report = app.school().check_upload(admin, bytes).await?.report;
            JobReport {
                rows: report.rows,
                problems: report.problems_total,
                file_problem: report
                    .file_problem
                    .as_ref()
                    .map(|p| p.message(i18n::Lang::En)),
            }
        }
    };
    Ok((measure.finish(file_bytes, report), id))
}

/// A job on a kept upload, timed, with the memory peak.
async fn by_job(
    app: &Arc<App>,
    admin: &SchoolAdmin,
    id: &str,
    file_bytes: usize,
    kind: JobKind,
) -> anyhow::Result<UploadFigures> {
    let measure = Measure::start();
    let report = run_job(app, admin, id, kind).await?;
    Ok(measure.finish(file_bytes, report))
}

/// What the figures keep of a check's or a job's report.
struct JobReport {
    rows: u64,
    problems: u64,
    file_problem: Option<String>,
}

/// One measured stretch: the time, the kernel's peak resident memory
/// (reset once, at the start: a second reset inside would make "before"
/// a figure of another moment) and the heap's sampled peak.
struct Measure {
    started: Instant,
    peak_reset: bool,
    hwm_before_mib: f64,
    anon: AnonPeak,
}

impl Measure {
    fn start() -> Measure {
        // Writing the workbook took far more memory than reading it may;
        // the allocator would keep it, and the upload would run in it
        // unseen.
        release_freed_memory();
        let peak_reset = reset_peak();
        Measure {
            peak_reset,
            hwm_before_mib: status_mib("VmHWM:"),
            anon: AnonPeak::start(),
            started: Instant::now(),
        }
    }

    fn finish(self, file_bytes: usize, report: JobReport) -> UploadFigures {
        let seconds = self.started.elapsed().as_secs_f64();
        let anon_before_mib = self.anon.before_mib;
        let anon_peak_mib = self.anon.stop();
        UploadFigures {
            file_bytes,
            rows: report.rows,
            problems: report.problems,
            file_problem: report.file_problem,
            seconds,
            hwm_before_mib: self.hwm_before_mib,
            hwm_after_mib: status_mib("VmHWM:"),
            peak_reset: self.peak_reset,
            anon_before_mib,
            anon_peak_mib,
        }
    }
}

/// Runs a job on a kept upload and reads its record every 20 ms (as its
/// page would, less often) until it ends.
async fn run_job(
    app: &Arc<App>,
    admin: &SchoolAdmin,
    id: &str,
    kind: JobKind,
) -> anyhow::Result<JobReport> {
    let start = app::school::jobs::start(app, admin, id, kind).await?;
    anyhow::ensure!(start == JobStart::Started, "the job started: {start:?}");
    let report = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let job = app.school().job(admin, id).await?;
        match job.state(app.now()) {
            JobState::Running => continue,
            JobState::Done => break job.report,
            state => anyhow::bail!("the job ended {state:?}"),
        }
    };
    let report = report.ok_or_else(|| anyhow::anyhow!("a finished job keeps its report"))?;
    Ok(JobReport {
        rows: report.rows,
        problems: report.problems_total,
        file_problem: report.file_problem.map(|p| p.en),
    })
}

/// The peak of anonymous (heap) memory, sampled every 10 ms on a thread of
/// its own until stopped.
struct AnonPeak {
    before_mib: f64,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<f64>,
}

impl AnonPeak {
    fn start() -> AnonPeak {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let before_mib = status_mib("RssAnon:");
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = before_mib;
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_mib("RssAnon:"));
                std::thread::sleep(Duration::from_millis(10));
            }
            peak.max(status_mib("RssAnon:"))
        });
        AnonPeak {
            before_mib,
            stop,
            thread,
        }
    }

    fn stop(self) -> f64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(self.before_mib)
    }
}

/// «1А» … «11А», «1Б» …; past the letters, classes are reused (the large
/// file then has large classes, which a dry run does not mind).
fn class_name(index: u32) -> String {
    let index = index as usize % (11 * LETTERS.len());
    format!("{}{}", 1 + index % 11, LETTERS[index / 11])
}

/// A valid SNILS from a counter (above the unchecked range).
fn snils(n: u64) -> String {
    let nine = format!("{:09}", 100_000_000 + n);
    format!("{nine}{}", check_number(&nine))
}

/// A roster of `rows` rows as a school secretary's workbook: groups of a
/// pupil, their mother and their father; dates as Excel dates. SNILS
/// numbers start past `snils_base`.
fn workbook(rows: u32, class_size: u32, snils_base: u32) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Список")?;
    let date = Format::new().set_num_format("dd.mm.yyyy");
    for (column, title) in HEADER.iter().enumerate() {
        sheet.write_string(0, column as u16, *title)?;
    }
    for n in 0..rows {
        let (group, member) = (n / 3, n % 3);
        let row = n + 1;
        let (his, her) = SURNAMES[(group % 8) as usize];
        let boy = group % 2 == 0;
        let (key, role, surname, given, patronymic, year) = match member {
            0 => (
                format!("p{group}"),
                "ученик",
                if boy { his } else { her },
                if boy { BOYS } else { GIRLS }[(group % 6) as usize],
                if boy {
                    "Петрович"
                } else {
                    "Петровна"
                },
                2010 + (group % 9) as u16,
            ),
            1 => (
                format!("m{group}"),
                "родитель",
                her,
                GIRLS[(group / 6 % 6) as usize],
                "Ивановна",
                1980 + (group % 10) as u16,
            ),
            _ => (
                format!("f{group}"),
                "родитель",
                his,
                "Пётр",
                "Сергеевич",
                1978 + (group % 10) as u16,
            ),
        };
        sheet.write_string(row, 0, &key)?;
        sheet.write_string(row, 1, role)?;
        sheet.write_string(row, 2, surname)?;
        sheet.write_string(row, 3, given)?;
        sheet.write_string(row, 4, patronymic)?;
        let born = ExcelDateTime::from_ymd(year, 1 + (n % 12) as u8, 1 + (n % 28) as u8)?;
        sheet.write_datetime_with_format(row, 5, born, &date)?;
        sheet.write_string(row, 6, snils(u64::from(snils_base) + u64::from(n)))?;
        if member == 0 {
            sheet.write_string(row, 7, class_name(group / class_size))?;
        } else {
            sheet.write_string(row, 8, format!("p{group}"))?;
        }
    }
    Ok(book.save_to_buffer()?)
}

/// `/Type /Page` objects, not the `/Type /Pages` tree.
fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
        .count()
}

/// Hands the memory freed so far back to the system (mimalloc, the
/// binary's allocator; elsewhere its heap is empty and this does nothing).
fn release_freed_memory() {
    // SAFETY: a plain call into the allocator, which takes no pointers and
    // is safe from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Resets the kernel's peak resident memory (VmHWM) to the current
/// resident size (`5` to clear_refs, Linux 4.0+); `false` if it cannot.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
