//! `cargo xtask` entry point.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use xtask::{diff, pull, regen, workspace_root};

#[derive(Parser)]
#[command(
    name = "xtask",
    about = "Maintenance tasks for the Backpack SDK workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Download a spec document, JSON or YAML (all of them without NAME), record its sha256, print the semantic diff.
    Pull {
        /// Document name from spec/sources.toml (`backpack`, `webhooks`).
        name: Option<String>,
        /// Download from this URL instead of the recorded one (needs NAME).
        #[arg(long)]
        url: Option<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Regenerate every generated crate from spec/ (deterministic).
    Regen {
        /// Write nothing; exit non-zero naming every stale file.
        #[arg(long)]
        check: bool,
    },
    /// Semantic changelog between two versions of a document; exit 1 when any change is breaking.
    Diff {
        /// The old document.
        old: PathBuf,
        /// The new document.
        new: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        Command::Pull { name, url, timeout } => {
            pull::run(&root, name.as_deref(), url.as_deref(), timeout)
        }
        Command::Regen { check } => regen::run(&root, check),
        Command::Diff { old, new } => match diff::diff_files(&old, &new) {
            Ok(changes) => {
                print!("{}", diff::render(&changes));
                if changes.iter().any(|c| c.breaking) {
                    return ExitCode::from(1);
                }
                Ok(())
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
