//! The `exflow` binary: parse arguments, call into the library, map errors to exit codes.

// Mapping allocates many small values; mimalloc makes `exflow map` and runs markedly faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    exflow::cli::output::exit_quietly_on_broken_pipe();
    exflow::cli::main()
}
