//! `esia-link bench …`: the benchmarks' subcommands and what each runs.
//! Here, behind the `demo` feature with the benchmarks themselves, rather
//! than in the command line's own module.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Drive complete logins through the real HTTP flow against an embedded
    /// mock IdP and print logins/s, latency percentiles and CPU per login.
    Login {
        #[arg(long, default_value_t = 500)]
        logins: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Provider to log in through: esia or oidc.
        #[arg(long, default_value = "esia")]
        provider: String,
    },
    /// esia-link as the diary apps' OpenID Provider: a signed-in person's
    /// app sign-ins (authorize → token → userinfo), service CPU per sign-in
    /// and the token endpoint's throughput.
    Apps {
        #[arg(long, default_value_t = 2000)]
        signins: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Generate a roster of N people, import it, issue everyone a code, and
    /// print rows/s and peak memory (SQLite, or PostgreSQL with --postgres).
    Roster {
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// A PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432; a
        /// database is created on it for the run and dropped afterwards.
        #[arg(long)]
        postgres: Option<String>,
    },
    /// The school console's heavy steps through its own use cases (scratch
    /// SQLite): an XLSX roster from upload to the dry-run report, a class
    /// packet (codes and PDF), and a large file through the same upload
    /// path with the peak resident memory.
    School {
        /// People in the school's roster (pupils, each with two parents).
        #[arg(long, default_value_t = 2000)]
        people: u32,
        /// Pupils per class; the packet is for the first class.
        #[arg(long, default_value_t = 30)]
        class_size: u32,
        /// Rows of the large file.
        #[arg(long, default_value_t = 100_000)]
        large_rows: u32,
    },
    /// The diary application's access check (viewer may see pupil?) against
    /// a school of 2,000 pupils, 3,000 parents and 500 trusted persons:
    /// checks/s and latency percentiles.
    Access {
        #[arg(long, default_value_t = 200_000)]
        checks: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// A PostgreSQL server (a scratch database is created and dropped).
        #[arg(long)]
        postgres: Option<String>,
        /// A Redis URL for the ephemeral store (keys prefixed and removed).
        #[arg(long)]
        redis: Option<String>,
        /// Every check reads the database (`[access] cache_seconds = 0`).
        #[arg(long)]
        no_cache: bool,
        /// Pupils whose cached facts are invalidated per second while the
        /// checks run (published through Redis like real changes).
        #[arg(long, default_value_t = 50)]
        changes_per_second: u32,
    },
}

/// Runs one benchmark; each prints its own figures.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Login {
            logins,
            concurrency,
            provider,
        } => super::bench::login(logins, concurrency, &provider).await,
        BenchCommand::Apps {
            signins,
            concurrency,
        } => super::bench_apps::apps(signins, concurrency).await,
        BenchCommand::Roster { rows, postgres } => {
            super::bench_roster::roster(rows, postgres).await
        }
        BenchCommand::School {
            people,
            class_size,
            large_rows,
        } => {
            super::bench_school::command(super::bench_school::SchoolBench {
                people,
                class_size,
                large_rows,
            })
            .await
        }
        BenchCommand::Access {
            checks,
            concurrency,
            postgres,
            redis,
            no_cache,
            changes_per_second,
        } => {
            super::bench_access::command(
                super::bench_access::AccessBench {
                    checks,
                    concurrency,
                    cache: !no_cache,
                    changes_per_second,
                    ..Default::default()
                },
                postgres,
                redis,
            )
            .await
        }
    }
}
