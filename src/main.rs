// `check` allocates and frees millions of small nodes (YAML values, map
// entries); mimalloc does that with 30% less CPU than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's `mi_option_set` (in the library libmimalloc-sys builds; the
// crate declares it only with a feature that needs one more crate).
unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in the mimalloc (v3) of libmimalloc-sys 0.1.49,
/// which Cargo.lock pins; `tests/suite` reads mimalloc's statistics of a
/// `gen` to see that nothing was purged.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

fn main() -> std::process::ExitCode {
    kubeproof::cli::main_with(|freed| {
        if freed == kubeproof::cli::Freed::Kept {
            // SAFETY: a documented mimalloc call, setting an option it reads
            // when it decides to purge; -1 is "never".
            unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
        }
    })
}
