//! `esia-link config show`: the configuration `serve` would load (every
//! layer), secrets masked, and everything that would stop it — printed even
//! when the configuration is incomplete, since this is the command an
//! operator runs to find out what is wrong.

use std::path::Path;
use std::process::ExitCode;

use config::Config;
use federation::{Provider, ProviderSettings};
use i18n::Lang;

/// The exit code when something is missing or invalid.
pub const INCOMPLETE: u8 = 2;

/// What `serve` would refuse in `config`: the providers (parsed and built
/// as at startup: certificates read, algorithms known), then the
/// production rules (published demo secrets, insecure cookies).
pub fn serve_problems(config: &Config) -> Vec<String> {
    let mut problems: Vec<String> = config
        .providers
        .iter()
        .filter_map(|raw| {
            ProviderSettings::parse(raw)
                .and_then(Provider::build)
                .err()
                .map(|error| error.to_string())
        })
        .collect();
    problems.extend(
        crate::startup::production_problems(config)
            .into_iter()
            .map(|problem| format!("{problem} (serve refuses it without --insecure-demo)")),
    );
    problems
}

/// Prints the effective configuration on stdout and what is missing or
/// invalid on stderr; exit 0 when complete, [`INCOMPLETE`] otherwise.
pub fn run(file: Option<&Path>, lang: Lang) -> ExitCode {
    let inspection = Config::inspect(file);
    let mut problems = inspection.problems;
    if let Some(config) = &inspection.config {
        problems.extend(serve_problems(config));
    }
    print!("{}", inspection.shown);
    if problems.is_empty() {
        eprintln!(
            "{}",
            lang.pick(
                "Конфигурация полная: serve запустится с ней.",
                "The configuration is complete: serve will start with it."
            )
        );
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "{} ({}):",
        lang.pick(
            "Не хватает или неверно, serve с этим не запустится",
            "Missing or invalid; serve will not start with these"
        ),
        problems.len()
    );
    for problem in &problems {
        eprintln!("  - {problem}");
    }
    ExitCode::from(INCOMPLETE)
}
