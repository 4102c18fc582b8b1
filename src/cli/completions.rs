//! `exflow completions SHELL`: the shell completion script for exflow's commands and flags,
//! generated from the same definitions the parser uses, so it never goes stale.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `exflow completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// `bash`, `zsh`, `fish`, `elvish` or `powershell`.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the script. Install it, e.g. for bash:
/// `exflow completions bash > ~/.local/share/bash-completion/completions/exflow`.
pub fn run(args: CompletionsArgs) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut super::Cli::command(),
        "exflow",
        &mut script,
    );
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    match out.write_all(&script).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the completion script: {e}");
            ExitCode::from(super::EXIT_FAILED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_commands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut crate::cli::Cli::command(),
                "exflow",
                &mut script,
            );
            let text = String::from_utf8(script).unwrap();
            for command in ["validate", "plan", "run", "serve", "failed", "completions"] {
                assert!(text.contains(command), "{shell:?} lacks {command}");
            }
        }
    }
}
