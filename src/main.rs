//! The `exflow` binary: parse arguments, call into the library, map errors to exit codes.
fn main() -> std::process::ExitCode {
    exflow::cli::main()
}
