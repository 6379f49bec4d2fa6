//! The command line: `serve`, `demo`, `migrate`, `config show`,
//! `snils check`, `name compare`, `bench login`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use ::texts::prelude::*;
use config::Config;
use domain::name::{compare, FullName};
use domain::snils::Snils;
use i18n::Lang;

#[cfg(feature = "demo")]
pub use crate::demo::bench_cli::BenchCommand;

#[derive(Debug, Parser)]
#[command(
    name = "esia-link",
    version,
    about = "Log in to a school e-diary via State Services (ESIA) or OIDC and link accounts by full name + SNILS"
)]
pub struct Cli {
    /// A TOML file layered over the built-in default configuration.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Language of command output: ru (default) or en.
    #[arg(long, global = true, default_value = "ru")]
    pub lang: String,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Commands that hold and then free large batches (a roster's
    /// file-wide checks, a school's codes); the binary returns freed memory
    /// to the system at once for them. A server keeps it a while: its
    /// requests reuse it.
    pub fn is_bulk_tool(&self) -> bool {
        match &self.command {
            Command::Roster { .. } | Command::Codes { .. } => true,
            #[cfg(feature = "demo")]
            Command::Bench {
                command: BenchCommand::Roster { .. },
            } => true,
            _ => false,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service with the configured database, store and providers.
    Serve {
        /// Run even with the published demo secrets or cookies without
        /// `Secure` on a non-loopback address (test machines only).
        #[arg(long)]
        insecure_demo: bool,
    },
    /// Run the service and an embedded mock IdP on the embedded default,
    /// seeded with a demo roster in which every link outcome is reachable.
    #[cfg(feature = "demo")]
    Demo {
        /// Address to bind both servers to.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Port of the service.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Port of the mock IdP.
        #[arg(long, default_value_t = 8090)]
        idp_port: u16,
        /// Port of the demo diary app (signs in through esia-link as its
        /// OpenID Provider).
        #[arg(long, default_value_t = 8082)]
        app_port: u16,
        /// SQLite file of the demo (recreated at every start).
        #[arg(long, default_value = "./data/demo.db")]
        database: PathBuf,
        /// ESIA as most systems use it: GOST-signed id_tokens and the client
        /// signature made by an external signer command.
        #[arg(long)]
        gost: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Why did a login fail? Look up a reference code (from the page the
    /// person saw), a diary login or a SNILS: the attempts, what was
    /// compared, and who must fix what. Every lookup is audited.
    Diagnose {
        /// A reference code (e.g. 7KQ2-M9XD), a diary login or a SNILS.
        query: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Show names and SNILS in full (audited as such).
        #[arg(long)]
        unmask: bool,
        /// Look into the running demo's database (./data/demo.db, demo keys).
        #[cfg(feature = "demo")]
        #[arg(long)]
        demo: bool,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The audit log, newest first, filtered.
    Audit {
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        action: Option<String>,
        /// A target id (account, school, link ...).
        #[arg(long)]
        target: Option<String>,
        /// 90m, 24h, 7d.
        #[arg(long)]
        since: Option<String>,
        /// Rows before then: 2026-09-01 (that whole day included) or 2h.
        #[arg(long)]
        until: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Reports for operators.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Console roles: who may use the support console or a school's console.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Schools: create one, give it an API token.
    School {
        #[command(subcommand)]
        command: SchoolCommand,
    },
    /// A school's people from a CSV or JSON file.
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// One-time activation codes and the invitation sheets that carry them.
    Codes {
        #[command(subcommand)]
        command: CodesCommand,
    },
    /// Check and reformat a SNILS.
    Snils {
        #[command(subcommand)]
        command: SnilsCommand,
    },
    /// Compare two full names the way the link decision does.
    Name {
        #[command(subcommand)]
        command: NameCommand,
    },
    /// Benchmarks that print figures.
    #[cfg(feature = "demo")]
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Signs stdin with the published demo GOST client key and prints the
    /// ESIA client_secret (the demo's external signer, standing in for
    /// CryptoPro; see config/signer/esia-sign-csptest.sh for the real one).
    #[cfg(feature = "demo")]
    #[command(hide = true)]
    DemoGostSign,
    /// The service side of `bench login` (started by it, not by hand).
    #[cfg(feature = "demo")]
    #[command(hide = true)]
    BenchTarget {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        idp_url: String,
        #[arg(long)]
        database: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Login attempts by outcome and region, with the top reasons.
    Outcomes {
        /// The window: 90m, 24h, 7d.
        #[arg(long, default_value = "24h")]
        since: String,
        #[arg(long)]
        json: bool,
    },
    /// Accounts sharing a SNILS, and accounts another identity tried to claim.
    Duplicates,
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Give the account with this diary login a console role (audited).
    Grant {
        /// The account's diary login.
        #[arg(long)]
        login: String,
        /// support, privileged_support or school_admin (bound to the
        /// account's own school).
        #[arg(long)]
        role: String,
        /// Why (at least five characters; kept in the audit log).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchoolCommand {
    /// Create a school and print its id.
    Add {
        /// Region code (e.g. 29).
        #[arg(long)]
        region: i64,
        #[arg(long)]
        name: String,
    },
    /// Create an API token for the school's admin API (printed once).
    Token {
        #[arg(long)]
        school: uuid::Uuid,
        /// What the token is for, e.g. "schedule system".
        #[arg(long, default_value = "school admin")]
        label: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Check every row of FILE (.csv, or .json) and write it to the school
    /// when all rows are good. Columns: key, role, surname, given_name,
    /// patronymic, birth_date, snils, class, children, login (English or
    /// Russian headers; `,` or `;`). Re-importing updates by key.
    Import {
        file: PathBuf,
        #[arg(long)]
        school: uuid::Uuid,
        /// Write the good rows even when some rows are bad.
        #[arg(long)]
        partial: bool,
        /// Check only; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CodesCommand {
    /// Issue new codes to a school's pending accounts (all, one class or
    /// one account); earlier codes of the same people stop working.
    Issue {
        #[arg(long)]
        school: uuid::Uuid,
        #[arg(long)]
        class: Option<String>,
        #[arg(long)]
        account: Option<uuid::Uuid>,
        /// Days until the codes expire (default: `activation.code_days`, 30).
        #[arg(long)]
        days: Option<u32>,
        /// CSV of the codes (the only copy); stdout when absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Printable HTML invitation sheets, one page per person.
        #[arg(long)]
        sheets: Option<PathBuf>,
        /// The same sheets as a PDF, one A4 page per person.
        #[arg(long)]
        pdf: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (all layers) with secrets masked,
    /// and list what is missing or invalid (exit 2), even when incomplete.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum SnilsCommand {
    /// Print the canonical form and exit 0, or the exact error and exit 1.
    Check {
        /// e.g. "112-233-445 95" or 11223344595
        value: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum NameCommand {
    /// Per-part comparison of "SURNAME GIVEN [PATRONYMIC]" against another.
    Compare { left: String, right: String },
}

/// Runs the parsed command line on `runtime` and waits for it.
///
/// The wait is here, in the library, rather than in `main`: `block_on` is
/// generic over the future, so wherever it is called the whole command
/// line's tree of futures is compiled. Called from `main` it was compiled
/// a second time for the executable (42 s of a release build).
pub fn run_on(runtime: &tokio::runtime::Runtime, cli: Cli) -> ExitCode {
    runtime.block_on(run(cli))
}

/// Runs the parsed command line; the exit code says whether it succeeded.
pub async fn run(cli: Cli) -> ExitCode {
    let lang = Lang::parse(&cli.lang).unwrap_or_default();
    match cli.command {
        Command::Snils {
            command: SnilsCommand::Check { value },
        } => snils_check(&value, lang),
        Command::Name {
            command: NameCommand::Compare { left, right },
        } => name_compare(&left, &right, lang),
        Command::Config {
            command: ConfigCommand::Show,
        } => crate::ops::config_show::run(cli.config.as_deref(), lang),
        Command::Migrate => with_config(cli.config, crate::startup::migrate_only).await,
        Command::Operator {
            command:
                OperatorCommand::Grant {
                    login,
                    role,
                    reason,
                },
        } => {
            with_config(cli.config, |config| async move {
                crate::ops::operator::grant(config, &login, &role, &reason, lang).await
            })
            .await
        }
        Command::School {
            command: SchoolCommand::Add { region, name },
        } => {
            with_config(cli.config, |config| async move {
                crate::ops::school::add_school(config, region, &name, lang).await
            })
            .await
        }
        Command::School {
            command: SchoolCommand::Token { school, label },
        } => {
            with_config(cli.config, |config| async move {
                crate::ops::school::add_token(config, school, &label, lang).await
            })
            .await
        }
        Command::Roster {
            command:
                RosterCommand::Import {
                    file,
                    school,
                    partial,
                    dry_run,
                    json,
                },
        } => {
            let args = crate::ops::school::ImportArgs {
                file,
                school,
                partial,
                dry_run,
                json,
            };
            let mut good = true;
            let status = with_config(cli.config, |config| async {
                good = crate::ops::school::import(config, args, lang).await?;
                Ok(())
            })
            .await;
            if status == ExitCode::SUCCESS && !good {
                ExitCode::FAILURE
            } else {
                status
            }
        }
        Command::Codes {
            command:
                CodesCommand::Issue {
                    school,
                    class,
                    account,
                    days,
                    out,
                    sheets,
                    pdf,
                },
        } => {
            let args = crate::ops::school::CodesArgs {
                school,
                class,
                account,
                days,
                out,
                sheets,
                pdf,
            };
            with_config(cli.config, |config| async move {
                crate::ops::school::issue_codes(config, args, lang).await
            })
            .await
        }
        Command::Report {
            command: ReportCommand::Duplicates,
        } => {
            with_config(cli.config, |config| async move {
                crate::ops::audit::duplicates(config, lang).await
            })
            .await
        }
        Command::Audit {
            actor,
            action,
            target,
            since,
            until,
            limit,
            json,
        } => {
            let query = crate::ops::audit::AuditQuery {
                actor,
                action,
                target,
                since,
                until,
                limit,
                json,
            };
            with_config(cli.config, |config| async move {
                crate::ops::audit::audit(config, query, lang).await
            })
            .await
        }
        Command::Report {
            command: ReportCommand::Outcomes { since, json },
        } => {
            with_config(cli.config, |config| async move {
                crate::ops::report::outcomes(config, &since, json, lang).await
            })
            .await
        }
        #[cfg(feature = "demo")]
        Command::Diagnose {
            query,
            json,
            unmask,
            demo: true,
        } => match crate::demo::demo_layers(cli.config.as_deref()) {
            Ok(mut config) => {
                config.database.url = config::Secret::new("sqlite://./data/demo.db?mode=rw");
                crate::ops::diagnose::run(config, &query, json, unmask, lang)
                    .await
                    .map(|_| ExitCode::SUCCESS)
                    .unwrap_or_else(|e| fail(&*e))
            }
            Err(e) => fail(&e),
        },
        Command::Diagnose {
            query,
            json,
            unmask,
            ..
        } => {
            with_config(cli.config, |config| async move {
                crate::ops::diagnose::run(config, &query, json, unmask, lang).await
            })
            .await
        }
        Command::Serve { insecure_demo } => {
            with_config(cli.config, |config| {
                crate::startup::serve(config, insecure_demo)
            })
            .await
        }
        #[cfg(feature = "demo")]
        Command::Demo {
            host,
            port,
            idp_port,
            app_port,
            database,
            gost,
        } => {
            let options = crate::demo::DemoOptions {
                host,
                port,
                idp_port,
                app_port,
                database,
                gost,
            };
            let result = crate::demo::run(cli.config.as_deref(), options).await;
            result
                .map(|_| ExitCode::SUCCESS)
                .unwrap_or_else(|e| fail(&*e))
        }
        #[cfg(feature = "demo")]
        Command::Bench { command } => crate::demo::bench_cli::run(command)
            .await
            .map(|_| ExitCode::SUCCESS)
            .unwrap_or_else(|e| fail(&*e)),
        #[cfg(feature = "demo")]
        Command::DemoGostSign => crate::demo::gost_sign_stdin()
            .map(|_| ExitCode::SUCCESS)
            .unwrap_or_else(|e| fail(&*e)),
        #[cfg(feature = "demo")]
        Command::BenchTarget {
            port,
            idp_url,
            database,
        } => crate::demo::bench::target(port, &idp_url, &database)
            .await
            .map(|_| ExitCode::SUCCESS)
            .unwrap_or_else(|e| fail(&*e)),
    }
}

async fn with_config<F, Fut>(file: Option<PathBuf>, action: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let config = match Config::load(file.as_deref()) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    crate::logging::init(&config.log);
    match action(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&*e),
    }
}

fn fail(error: &(dyn std::error::Error + 'static)) -> ExitCode {
    eprintln!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
    ExitCode::FAILURE
}

fn snils_check(value: &str, lang: Lang) -> ExitCode {
    match Snils::parse(value) {
        Ok(snils) => {
            println!("{snils}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.message(lang));
            ExitCode::FAILURE
        }
    }
}

fn name_compare(left: &str, right: &str, lang: Lang) -> ExitCode {
    let parsed = FullName::parse(left).and_then(|l| FullName::parse(right).map(|r| (l, r)));
    match parsed {
        Ok((left, right)) => {
            let comparison = compare(&left, &right);
            print!("{}", render_comparison(&comparison, lang));
            if !render_comparison(&comparison, lang).ends_with('\n') {
                println!();
            }
            let verdict = if comparison.matches() {
                lang.pick("итог: совпадают", "result: match")
            } else {
                lang.pick("итог: не совпадают", "result: differ")
            };
            println!("{verdict}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.message(lang));
            ExitCode::FAILURE
        }
    }
}
