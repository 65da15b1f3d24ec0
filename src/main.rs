// `check` allocates and frees millions of small nodes (YAML values, map
// entries); mimalloc does that with 30% less CPU than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kubeproof::cli::main()
}
