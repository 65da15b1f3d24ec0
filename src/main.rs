// `check` allocates and frees millions of small nodes (YAML values, map
// entries); mimalloc does that with 30% less CPU than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // mimalloc asks for transparent huge pages on its arenas: a 2 MiB page
    // is resident once one byte of it is touched, and `check` on 100,000
    // objects peaked at 206 MiB with them, 164 MiB without, in the same time
    // (BENCHMARKS.md). Before anything large is allocated; best effort.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    kubeproof::cli::main()
}
