//! The `tribune` binary: see `tribune --help`.

fn main() -> std::process::ExitCode {
    tribune::cli::main()
}
