fn main() -> std::process::ExitCode {
    kubeproof::cli::main()
}
