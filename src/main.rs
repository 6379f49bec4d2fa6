use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's option enum (libmimalloc-sys has
/// no constant for it); its default is 1000 ms (mimalloc v3; 10 in v2).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// `mi_option_arena_eager_commit` (index 4 in mimalloc v2 and v3; its
/// default, 2, commits whole arenas on systems that overcommit, as Linux).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Arena memory committed as it is used rather than a whole arena at once:
/// with the default, `serve` sat idle on 14 MiB of mimalloc's first arena
/// (anonymous resident memory 14.3 MiB; 3.6 MiB committed on demand).
fn commit_memory_on_demand() {
    // SAFETY: plain getters and setters of mimalloc's global options.
    unsafe {
        // Set only when the option at that index has its default, so a
        // renumbered enum in another mimalloc changes nothing.
        if libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_EAGER_COMMIT) == 2 {
            libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        }
    }
}

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

/// SQLite's own allocations (page caches, statements, rows) go to mimalloc
/// as well, instead of glibc's malloc: a login's reads and the journal's
/// writes empty and refill each connection's page cache, and glibc spent
/// ~10 % of the service's CPU on that (consolidating, trimming, unmapping).
/// Memory statistics are off: they take a global mutex on every
/// allocation, and nothing here reads them. Must run before SQLite opens
/// its first connection. Not for bulk tools: with their memory returned to
/// the system at once (above), SQLite's 32 MiB page caches were handed
/// back and faulted in again, and a million codes took 50 s instead of 41.
fn sqlite_allocates_with_mimalloc() {
    use std::os::raw::{c_int, c_void};

    unsafe extern "C" fn allocate(size: c_int) -> *mut c_void {
        // SAFETY: mimalloc's malloc; SQLite never asks for a negative size.
        unsafe { libmimalloc_sys::mi_malloc(size.max(0) as usize) }
    }
    unsafe extern "C" fn free(block: *mut c_void) {
        // SAFETY: `block` came from `allocate` or `reallocate`.
        unsafe { libmimalloc_sys::mi_free(block) }
    }
    unsafe extern "C" fn reallocate(block: *mut c_void, size: c_int) -> *mut c_void {
        // SAFETY: as above.
        unsafe { libmimalloc_sys::mi_realloc(block, size.max(0) as usize) }
    }
    unsafe extern "C" fn size_of(block: *mut c_void) -> c_int {
        // SAFETY: as above; SQLite's blocks are far below 2 GiB.
        unsafe { libmimalloc_sys::mi_usable_size(block) as c_int }
    }
    unsafe extern "C" fn round_up(size: c_int) -> c_int {
        (size + 7) & !7
    }
    unsafe extern "C" fn init(_: *mut c_void) -> c_int {
        libsqlite3_sys::SQLITE_OK
    }
    unsafe extern "C" fn shutdown(_: *mut c_void) {}

    let methods = libsqlite3_sys::sqlite3_mem_methods {
        xMalloc: Some(allocate),
        xFree: Some(free),
        xRealloc: Some(reallocate),
        xSize: Some(size_of),
        xRoundup: Some(round_up),
        xInit: Some(init),
        xShutdown: Some(shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: called once, before any SQLite connection exists (SQLite
    // copies the methods); both options take the documented argument types.
    let status = unsafe {
        libsqlite3_sys::sqlite3_config(
            libsqlite3_sys::SQLITE_CONFIG_MALLOC,
            &methods as *const libsqlite3_sys::sqlite3_mem_methods,
        ) | libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as c_int)
    };
    if status != libsqlite3_sys::SQLITE_OK {
        eprintln!("warning: SQLite keeps its own allocator (sqlite3_config answered {status})");
    }
}

/// [`commit_memory_on_demand`] before the first allocation: mimalloc
/// reserves its first arena then, and Rust's runtime allocates before
/// `main`. A constructor of the executable runs before both.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static COMMIT_MEMORY_ON_DEMAND: extern "C" fn() = {
    extern "C" fn before_main() {
        commit_memory_on_demand();
    }
    before_main
};

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
    } else {
        sqlite_allocates_with_mimalloc();
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
    esia_link::cli::run_on(&runtime, cli)
}
