//! `esia-link bench access`: how many "may this viewer see this pupil's
//! service?" checks per second the access use case answers, and their
//! latency percentiles, against the configured database.
//!
//! It writes one school into that database (use a scratch one): `pupils`
//! pupils, `parents` parents each with a confirmed link to one child, and
//! `trusted` trusted persons each with an open grant for the diary of one
//! parent's child. The checks mix what the diary sees in production:
//! parents asking for their child (allowed), trusted persons for the
//! granted and for another service (allowed / denied), pupils for
//! themselves (allowed) and strangers for someone else's child (denied).
//! A check reads one database statement, or nothing when its facts are in
//! the access cache; the decision is taken anew each time. The app is the
//! server's (`build_app`): with Redis it serves from the cache only while
//! subscribed to the other instances' invalidations, and while the checks
//! run, `changes_per_second` pupils are invalidated (as if links and
//! invitations changed) and published through Redis like real changes.
//! Two timed passes of `checks` each: the first starts on an empty cache,
//! the second draws other checks from the same mix (the steady state of a
//! diary application asking about the same families all day).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use uuid::Uuid;

use app::school::roster::{BytesSource, ImportOptions, RosterFormat};
use app::App;
use config::Config;
use domain::access::Service;
use store::{InvitationChange, NewInvitation, NewTrustedAccount, Store};

/// What to build and how hard to ask.
#[derive(Debug, Clone)]
pub struct AccessBench {
    pub pupils: usize,
    pub parents: usize,
    pub trusted: usize,
    pub checks: usize,
    pub concurrency: usize,
    /// `false`: every check reads the database (`[access] cache_seconds = 0`).
    pub cache: bool,
    pub changes_per_second: u32,
}

impl Default for AccessBench {
    fn default() -> AccessBench {
        AccessBench {
            pupils: 2000,
            parents: 3000,
            trusted: 500,
            checks: 200_000,
            concurrency: 64,
            cache: true,
            changes_per_second: 50,
        }
    }
}

/// The figures, as printed.
#[derive(Debug, Clone)]
pub struct AccessBenchReport {
    pub checks: usize,
    pub allowed: usize,
    pub seconds: f64,
    pub checks_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Checks answered from the cache, and invalidations made meanwhile.
    pub cache_hits: u64,
    pub changes: u64,
    /// The first pass, on an empty cache (the figures above are the
    /// second pass, with other draws from the same mix).
    pub cold_checks_per_second: f64,
    pub cold_p99_ms: f64,
    pub cold_cache_hits: u64,
}

/// Builds the app from `config` (its database; the school is added to
/// it), seeds the school and runs the checks. Prints the report.
pub async fn access(mut config: Config, bench: &AccessBench) -> anyhow::Result<AccessBenchReport> {
    anyhow::ensure!(
        bench.pupils > 0 && bench.parents > 0 && bench.checks > 0 && bench.concurrency > 0,
        "pupils, parents, checks and concurrency must be positive"
    );
    if !bench.cache {
        config.access.cache_seconds = 0;
    }
    // The server's app, minus the login providers no check needs (their
    // keys are files relative to the source tree).
    config.providers.clear();
    let (app, store) = crate::startup::build_app(config).await?;
    let app = Arc::new(app);
    let started = Instant::now();
    let population = seed(&app, &store, bench).await?;
    println!(
        "seeded a school of {} pupils, {} parents, {} trusted persons in {:.1} s",
        bench.pupils,
        bench.parents,
        population.trusted.len(),
        started.elapsed().as_secs_f64()
    );
    let report = run(app, &population, bench).await?;
    println!(
        "first pass, cache empty at the start: {} checks, {:.0} checks/s, p99 {:.3} ms, {:.0} % from the cache",
        report.checks,
        report.cold_checks_per_second,
        report.cold_p99_ms,
        100.0 * report.cold_cache_hits as f64 / report.checks as f64
    );
    println!(
        "second pass (other draws of the same mix): {} checks in {:.2} s with {} concurrent callers — {:.0} checks/s",
        report.checks, report.seconds, bench.concurrency, report.checks_per_second
    );
    println!(
        "  latency: p50 {:.3} ms, p99 {:.3} ms, max {:.2} ms; {} allowed, {} denied",
        report.p50_ms,
        report.p99_ms,
        report.max_ms,
        report.allowed,
        report.checks - report.allowed
    );
    println!(
        "  access cache: {}; {:.0} % of checks answered from it; {} invalidations during the pass ({}/s, published like real changes)",
        if bench.cache { "on" } else { "off" },
        100.0 * report.cache_hits as f64 / report.checks as f64,
        report.changes,
        bench.changes_per_second
    );
    Ok(report)
}

struct Population {
    school: Uuid,
    pupils: Vec<Uuid>,
    /// (parent, child)
    parents: Vec<(Uuid, Uuid)>,
    /// (trusted person, pupil)
    trusted: Vec<(Uuid, Uuid)>,
}

async fn seed(app: &App, store: &Store, bench: &AccessBench) -> anyhow::Result<Population> {
    let region = app
        .config()
        .regions
        .first()
        .map(|r| i64::from(r.code))
        .ok_or_else(|| anyhow::anyhow!("the configuration lists no region"))?;
    let tag = Uuid::new_v4().simple().to_string();
    let school = app
        .school()
        .create_school(region, &format!("Bench school {tag}"), "system:bench")
        .await?;
    let mut csv =
        String::from("key,role,surname,given_name,patronymic,birth_date,class,children\n");
    for p in 0..bench.pupils {
        csv.push_str(&format!(
            "p{p},pupil,Учеников,Ученик,Иванович,2014-09-01,{}А,\n",
            1 + p % 11
        ));
    }
    for m in 0..bench.parents {
        csv.push_str(&format!(
            "m{m},parent,Родителев,Родитель,Петрович,1985-01-01,,p{}\n",
            m % bench.pupils
        ));
    }
    let source = BytesSource {
        bytes: csv.into_bytes(),
        format: RosterFormat::Csv,
    };
    let report = app
        .school()
        .import_roster(
            school.id,
            &source,
            &ImportOptions::default(),
            "system:bench",
            &|_| {},
        )
        .await?;
    anyhow::ensure!(report.ok(), "the bench roster did not import: {report:?}");

    let now = Utc::now();
    let pool = store.pool();
    // Every proposed link confirmed, as if each parent had accepted.
    sqlx::query(
        "UPDATE relationships SET status = 'confirmed', holder_id = parent_id,
             basis = 'parent_accepted', decided_at = $1
         WHERE status = 'proposed' AND pupil_id IN (SELECT id FROM accounts WHERE school_id = $2)",
    )
    .bind(now.timestamp_millis())
    .bind(school.id.to_string())
    .execute(pool)
    .await?;
    let rows = sqlx::query(
        "SELECT r.id, r.parent_id, r.pupil_id FROM relationships r
         JOIN accounts c ON c.id = r.pupil_id WHERE c.school_id = $1 ORDER BY r.parent_id",
    )
    .bind(school.id.to_string())
    .fetch_all(pool)
    .await?;
    let mut links = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let parent: String = row.try_get("parent_id")?;
        let pupil: String = row.try_get("pupil_id")?;
        links.push((
            Uuid::parse_str(&id)?,
            Uuid::parse_str(&parent)?,
            Uuid::parse_str(&pupil)?,
        ));
    }
    let pupils: Vec<Uuid> = sqlx::query_scalar::<_, String>(
        "SELECT id FROM accounts WHERE school_id = $1 AND role = 'pupil'",
    )
    .bind(school.id.to_string())
    .fetch_all(pool)
    .await?
    .iter()
    .filter_map(|id| Uuid::parse_str(id).ok())
    .collect();

    // Trusted persons: each invited by one parent for the diary, accepted
    // two days ago, open since yesterday.
    let mut trusted = Vec::new();
    for (index, (relationship, parent, pupil)) in links.iter().take(bench.trusted).enumerate() {
        let person = store
            .create_trusted_account(
                &NewTrustedAccount {
                    surname: "Доверенных".into(),
                    given_name: "Доверенный".into(),
                    patronymic: None,
                    birth_date: None,
                    snils: None,
                    verified_phone: None,
                    provider: "bench".into(),
                    subject: format!("{tag}-{index}"),
                    tier: "standard".into(),
                },
                now,
                |_| Vec::new(),
            )
            .await?;
        let invitation = NewInvitation {
            id: Uuid::new_v4(),
            inviter_id: *parent,
            pupil_id: *pupil,
            relationship_id: *relationship,
            invitee_surname: "Доверенных".into(),
            match_kind: "snils".into(),
            match_hash: app.lookup_hash("invitee_snils", &format!("bench-{tag}-{index}")),
            hint: "***-***-000 00".into(),
            services: Service::Diary.code().into(),
            created_at: now - chrono::Duration::days(3),
            expires_at: now + chrono::Duration::days(4),
        };
        store
            .insert_invitation(&invitation, "system:bench", &[])
            .await?;
        store
            .change_invitation(
                &InvitationChange {
                    id: invitation.id,
                    from_status: "pending".into(),
                    status: "accepted".into(),
                    grantee_id: Some(person),
                    decided_at: Some(now - chrono::Duration::days(2)),
                    opens_at: Some(now - chrono::Duration::days(1)),
                    revoked_at: None,
                    revoked_by: None,
                },
                "system:bench",
                &[],
            )
            .await?;
        trusted.push((person, *pupil));
    }
    Ok(Population {
        school: school.id,
        pupils,
        parents: links.iter().map(|(_, m, p)| (*m, *p)).collect(),
        trusted,
    })
}

/// One check of the mix: (viewer, pupil, service).
fn pick(population: &Population, rng: &mut impl Rng) -> (Uuid, Uuid, Service) {
    let any_pupil =
        |rng: &mut dyn rand::RngCore| population.pupils[rng.gen_range(0..population.pupils.len())];
    match rng.gen_range(0..10) {
        0..=3 => {
            let (parent, child) = population.parents[rng.gen_range(0..population.parents.len())];
            let service = if rng.gen_bool(0.5) {
                Service::Diary
            } else {
                Service::AttendanceMeals
            };
            (parent, child, service)
        }
        4 | 5 if !population.trusted.is_empty() => {
            let (person, pupil) = population.trusted[rng.gen_range(0..population.trusted.len())];
            let service = if rng.gen_bool(0.8) {
                Service::Diary
            } else {
                Service::AttendanceMeals
            };
            (person, pupil, service)
        }
        6 | 7 => {
            let pupil = any_pupil(rng);
            (pupil, pupil, Service::Diary)
        }
        _ => {
            let (stranger, _) = population.parents[rng.gen_range(0..population.parents.len())];
            (stranger, any_pupil(rng), Service::Diary)
        }
    }
}

async fn run(
    app: Arc<App>,
    population: &Population,
    bench: &AccessBench,
) -> anyhow::Result<AccessBenchReport> {
    // A shared store's instance uses the cache once it is subscribed.
    let waiting = Instant::now();
    while bench.cache && !app.access_cache().is_live() {
        anyhow::ensure!(
            waiting.elapsed() < Duration::from_secs(5),
            "the access cache did not go live (no subscription to the invalidation channel)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sample = |seed: u64| -> Arc<Vec<(Uuid, Uuid, Service)>> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        Arc::new(
            (0..bench.checks)
                .map(|_| pick(population, &mut rng))
                .collect(),
        )
    };
    // Warm the pool a little first (not the cache: the first pass starts cold).
    for (viewer, pupil, service) in sample(9).iter().take(200) {
        app.family()
            .access_decision(*viewer, *pupil, *service, Some(population.school))
            .await?;
    }
    app.access_cache()
        .invalidate(app::access_cache::Invalidation::All);
    let cold = pass(&app, population, bench, sample(10)).await?;
    // The same mix again, other draws: the cache holds what the first
    // pass read, less what the changes meanwhile dropped.
    let mut warm = pass(&app, population, bench, sample(11)).await?;
    warm.cold_checks_per_second = cold.checks_per_second;
    warm.cold_p99_ms = cold.p99_ms;
    warm.cold_cache_hits = cold.cache_hits;
    Ok(warm)
}

/// One timed pass over `work`, with changes made alongside.
async fn pass(
    app: &Arc<App>,
    population: &Population,
    bench: &AccessBench,
    work: Arc<Vec<(Uuid, Uuid, Service)>>,
) -> anyhow::Result<AccessBenchReport> {
    let (hits_before, _) = app.access_cache().counts();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let changes = if bench.changes_per_second > 0 {
        let (app, done, pupils) = (app.clone(), done.clone(), population.pupils.clone());
        let every = Duration::from_secs(1) / bench.changes_per_second;
        Some(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(12);
            let mut tick = tokio::time::interval(every);
            let mut made = 0u64;
            while !done.load(Ordering::Relaxed) {
                tick.tick().await;
                let pupil = pupils[rng.gen_range(0..pupils.len())];
                app.access_changed(&[app::access_cache::Invalidation::Pupil(pupil)])
                    .await;
                made += 1;
            }
            made
        }))
    } else {
        None
    };
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(bench.concurrency);
    for _ in 0..bench.concurrency {
        let (app, work, next, school) =
            (app.clone(), work.clone(), next.clone(), population.school);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut allowed = 0usize;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some((viewer, pupil, service)) = work.get(index).copied() else {
                    break;
                };
                let at = Instant::now();
                let answer = app
                    .family()
                    .access_decision(viewer, pupil, service, Some(school))
                    .await?;
                latencies.push(at.elapsed());
                allowed += usize::from(answer.allowed);
                // A check answered from the cache never waits; each real
                // check is its own request, so let the others run.
                tokio::task::yield_now().await;
            }
            Ok::<_, app::AppError>((latencies, allowed))
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(bench.checks);
    let mut allowed = 0;
    for task in tasks {
        let (mut l, a) = task.await??;
        latencies.append(&mut l);
        allowed += a;
    }
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let changes = match changes {
        Some(task) => task.await?,
        None => 0,
    };
    let (hits_after, _) = app.access_cache().counts();
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    let checks_per_second = latencies.len() as f64 / seconds;
    Ok(AccessBenchReport {
        checks: latencies.len(),
        allowed,
        seconds,
        checks_per_second,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: at(1.0),
        cache_hits: hits_after - hits_before,
        changes,
        cold_checks_per_second: checks_per_second,
        cold_p99_ms: at(0.99),
        cold_cache_hits: hits_after - hits_before,
    })
}

/// `esia-link bench access`: the benchmark against a scratch database (a
/// SQLite file, or a database created on `postgres` and dropped) and, when
/// given, Redis (keys under a unique prefix, removed afterwards).
pub async fn command(
    bench: AccessBench,
    postgres: Option<String>,
    redis: Option<String>,
) -> anyhow::Result<()> {
    let scratch = std::env::temp_dir().join(format!("esia-link-bench-access-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&scratch)?;
    let db = super::bench_roster::ScratchDb::create(postgres.as_deref(), &scratch).await?;
    let mut config = super::demo_base_config()?;
    config.log.filter = "error".into();
    config.notify.dir = scratch.join("outbox");
    config.database.url = config::Secret::new(db.url.clone());
    config.database.max_connections = 16;
    let prefix = format!("esia-link-bench:{}:", Uuid::new_v4().simple());
    if let Some(redis) = &redis {
        config.ephemeral.backend = config::EphemeralBackend::Redis;
        config.ephemeral.redis_url = Some(config::Secret::new(redis.clone()));
        config.ephemeral.key_prefix = prefix.clone();
    }
    println!(
        "access benchmark: {} database{}",
        db.backend,
        if redis.is_some() { " + Redis" } else { "" }
    );
    let result = access(config, &bench).await;
    db.drop().await?;
    if let Some(redis) = &redis {
        remove_keys(redis, &prefix).await;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    result.map(|_| ())
}

async fn remove_keys(redis: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(redis) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
}
