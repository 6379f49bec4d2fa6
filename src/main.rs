use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's option enum (libmimalloc-sys has
/// no constant for it); its default is 1000 ms (mimalloc v3; 10 in v2).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system at once rather than a second later
/// and only when the freeing thread allocates again: a million-row roster
/// import frees ~100 MiB of file-wide checks before it writes, and kept
/// them resident (up to 206 MiB peak instead of 140 MiB). Only for bulk
/// tools: it costs a login ~8 % more CPU.
fn return_freed_memory_at_once() {
    // SAFETY: plain getters and setters of mimalloc's global options.
    unsafe {
        // Set only when the option at that index has purge_delay's default,
        // so a renumbered enum in another mimalloc changes nothing.
        if matches!(
            libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
            10 | 1000
        ) {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        }
    }
}

fn main() -> ExitCode {
    // One TLS crypto provider for reqwest, openidconnect and sqlx, chosen explicitly.
    if rustls::crypto::ring::default_provider()
        .install_default()
        .is_err()
    {
        eprintln!("error: a TLS crypto provider was already installed");
        return ExitCode::FAILURE;
    }
    let cli = esia_link::cli::Cli::parse();
    if cli.is_bulk_tool() {
        return_freed_memory_at_once();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(esia_link::cli::run(cli))
}
