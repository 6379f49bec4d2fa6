//! `esia-link bench roster`: generates a roster file of N people (pupils,
//! each with a parent who lists them), imports it through the same use case
//! as `roster import`, issues an activation code to everyone, and prints
//! rows/s for each phase and the process's peak resident memory.
//!
//! SQLite (a temporary file) by default; `--postgres URL` runs against a
//! database it creates on that server and drops afterwards.

use std::io::{BufWriter, Write};
use std::time::Instant;

use app::school::roster::{FileSource, ImportOptions, Phase, Progress, RosterFormat};
use app::school::CodeScope;
use domain::snils::check_number;

const SURNAMES: [&str; 8] = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
];
const GIVEN: [&str; 8] = [
    "Александр",
    "Дмитрий",
    "Максим",
    "Сергей",
    "Андрей",
    "Алексей",
    "Артём",
    "Илья",
];
const PATRONYMICS: [&str; 4] = ["Иванович", "Петрович", "Сергеевич", "Андреевич"];

/// A line of /proc/self/status in MiB (`VmHWM`, `RssAnon`...).
pub(crate) fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The step the benchmark is in, for the memory sampler: checking,
/// writing, parent links, codes; `STOPPED` ends the sampling.
type Step = std::sync::Arc<std::sync::atomic::AtomicUsize>;
const STOPPED: usize = usize::MAX;

/// Samples the process's anonymous (heap) memory every 20 ms and keeps the
/// peak of each step; the kernel keeps only the peak of the total, which
/// would include any memory-mapped database file.
fn sample_anon_peaks(step: Step) -> std::thread::JoinHandle<[f64; 4]> {
    std::thread::spawn(move || {
        let mut peaks = [0.0f64; 4];
        loop {
            let now = step.load(std::sync::atomic::Ordering::Relaxed);
            if now == STOPPED {
                return peaks;
            }
            let slot = &mut peaks[now.min(3)];
            *slot = slot.max(status_mib("RssAnon:"));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    })
}

/// A valid SNILS from a counter (above the unchecked range).
fn snils(n: u64) -> String {
    let nine = format!("{:09}", 100_000_000 + n);
    format!("{nine}{}", check_number(&nine))
}

/// Writes `rows` rows: pupil, then a parent naming that pupil.
fn generate(path: &std::path::Path, rows: u64) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        out,
        "key,role,surname,given_name,patronymic,birth_date,snils,class,children"
    )?;
    for n in 0..rows {
        let surname = SURNAMES[(n / 2 % 8) as usize];
        let given = GIVEN[(n % 8) as usize];
        let patronymic = PATRONYMICS[(n / 16 % 4) as usize];
        if n % 2 == 0 {
            let class = format!(
                "{}{}",
                1 + n / 2 % 11,
                ["А", "Б", "В"][(n / 22 % 3) as usize]
            );
            writeln!(
                out,
                "p{n},pupil,{surname},{given},{patronymic},2014-09-{:02},{},{class},",
                1 + n % 28,
                snils(n)
            )?;
        } else {
            writeln!(
                out,
                "m{n},parent,{surname}а,Мария,Петровна,1985-03-{:02},{},,p{}",
                1 + n % 28,
                snils(n),
                n - 1
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

pub async fn roster(rows: u64, postgres: Option<String>) -> anyhow::Result<()> {
    anyhow::ensure!(rows > 0, "--rows must be positive");
    let scratch =
        std::env::temp_dir().join(format!("esia-link-bench-roster-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch)?;
    let file = scratch.join("roster.csv");
    let started = Instant::now();
    generate(&file, rows)?;
    let generated = started.elapsed();
    let file_mib = std::fs::metadata(&file)?.len() as f64 / (1024.0 * 1024.0);

    let mut config = super::demo_base_config()?;
    config.log.filter = "error".into();
    config.notify.dir = scratch.join("outbox");
    let scratch_db = ScratchDb::create(postgres.as_deref(), &scratch).await?;
    let backend = scratch_db.backend;
    let url = scratch_db.url.clone();
    config.database.url = config::Secret::new(url);
    let step: Step = Default::default();
    let sampler = sample_anon_peaks(step.clone());
    let result = run(config, &file, rows, &step).await;
    step.store(STOPPED, std::sync::atomic::Ordering::Relaxed);
    let anon_peaks = sampler.join().unwrap_or_default();
    scratch_db.drop().await?;
    let _ = std::fs::remove_dir_all(&scratch);
    let figures = result?;
    println!(
        "roster benchmark ({backend}): {rows} rows, {file_mib:.0} MiB CSV generated in {:.1} s",
        generated.as_secs_f64()
    );
    println!(
        "  import (check + write + parent links): {:.1} s, {:.0} rows/s, {} relationships",
        figures.import_secs,
        rows as f64 / figures.import_secs,
        figures.relationships
    );
    println!(
        "    check {:.1} s, write {:.1} s, parent links {:.1} s",
        figures.phase_secs[0], figures.phase_secs[1], figures.phase_secs[2]
    );
    println!(
        "  activation codes: {} in {:.1} s, {:.0} codes/s",
        figures.issued,
        figures.codes_secs,
        figures.issued as f64 / figures.codes_secs
    );
    println!(
        "  total {:.1} s; peak resident memory {:.0} MiB (VmHWM), of it heap at most {:.0} MiB (RssAnon, sampled)",
        figures.import_secs + figures.codes_secs,
        status_mib("VmHWM:"),
        anon_peaks.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "    heap peak while checking {:.0} MiB, writing {:.0} MiB, linking {:.0} MiB, issuing codes {:.0} MiB",
        anon_peaks[0], anon_peaks[1], anon_peaks[2], anon_peaks[3]
    );
    Ok(())
}

struct Figures {
    import_secs: f64,
    /// Checking, writing and linking, split where the progress callback
    /// first reports the next phase.
    phase_secs: [f64; 3],
    codes_secs: f64,
    issued: u64,
    relationships: u64,
}

async fn run(
    config: config::Config,
    file: &std::path::Path,
    rows: u64,
    step: &Step,
) -> anyhow::Result<Figures> {
    let (app, _) = crate::startup::build_tool_app(config).await?;
    let school = app
        .school()
        .create_school(29, "Bench school", "bench")
        .await?;
    let source = FileSource {
        path: file.to_path_buf(),
        format: RosterFormat::Csv,
    };
    let started = Instant::now();
    let phase_starts = std::sync::Mutex::new(vec![(Phase::Checking, started)]);
    let on_progress = |progress: Progress| {
        if let Ok(mut starts) = phase_starts.lock() {
            if starts.last().map(|(phase, _)| *phase) != Some(progress.phase) {
                starts.push((progress.phase, Instant::now()));
                step.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    };
    let report = app
        .school()
        .import_roster(
            school.id,
            &source,
            &ImportOptions::default(),
            "bench",
            &on_progress,
        )
        .await?;
    let finished = Instant::now();
    let import_secs = (finished - started).as_secs_f64();
    anyhow::ensure!(
        report.ok() && report.created == rows,
        "the generated roster imports cleanly: {} problems, {} created",
        report.problems_total,
        report.created
    );
    let mut phase_secs = [0.0; 3];
    if let Ok(starts) = phase_starts.lock() {
        for (i, (phase, start)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(finished, |(_, next)| *next);
            let slot = match phase {
                Phase::Checking => 0,
                Phase::Writing => 1,
                Phase::Linking => 2,
            };
            phase_secs[slot] += (end - *start).as_secs_f64();
        }
    }
    step.store(3, std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    let mut sink = |_: &[app::school::IssuedCode]| {};
    let issued = app
        .school()
        .issue_codes(school.id, &CodeScope::default(), 30, "bench", &mut sink)
        .await?;
    Ok(Figures {
        import_secs,
        phase_secs,
        codes_secs: started.elapsed().as_secs_f64(),
        issued,
        relationships: report.relationships_added,
    })
}

/// A database for one benchmark run: a SQLite file in the scratch
/// directory, or a database created on a PostgreSQL server and dropped.
pub(crate) struct ScratchDb {
    pub url: String,
    pub backend: &'static str,
    postgres: Option<(String, String)>,
}

impl ScratchDb {
    pub(crate) async fn create(
        postgres: Option<&str>,
        scratch: &std::path::Path,
    ) -> anyhow::Result<ScratchDb> {
        Ok(match postgres {
            Some(server) => {
                // The server's URL, with or without a database in it.
                let mut server = url::Url::parse(server)?;
                let name = format!("esia_link_bench_{}", uuid::Uuid::new_v4().simple());
                server.set_path("/postgres");
                let admin = server.to_string();
                server.set_path(&format!("/{name}"));
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await?;
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                    .await?;
                ScratchDb {
                    url: server.to_string(),
                    backend: "PostgreSQL",
                    postgres: Some((admin, name)),
                }
            }
            None => ScratchDb {
                url: format!("sqlite://{}?mode=rwc", scratch.join("bench.db").display()),
                backend: "SQLite",
                postgres: None,
            },
        })
    }

    pub(crate) async fn drop(self) -> anyhow::Result<()> {
        if let Some((admin, name)) = self.postgres {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await?;
            sqlx::Executor::execute(
                &mut conn,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
            )
            .await?;
        }
        Ok(())
    }
}
