//! The `tribune` binary: see `tribune --help`.

fn main() -> std::process::ExitCode {
    bound_malloc_arenas();
    tribune::cli::main()
}

/// glibc's allocator gives every thread that allocates an arena of its own, up to 8 per core,
/// and each keeps what it freed: with the database work spread over the blocking pool's
/// threads, the server's peak RSS under the benchmark's load was 360 MB with those arenas and
/// 100 to 200 MB with two. Large buffers (a hot thread's page of hundreds of comments, rebuilt
/// at each new comment) are mapped and unmapped on their own instead of fragmenting the heaps
/// (glibc would raise its mapping threshold after the first such free): about 50 MB
/// (docs/benchmarks.md, "Memory").
fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called first thing, on one thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}
