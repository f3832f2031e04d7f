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
    /// Semantic changelog between two versions of a document and the release each generated crate
    /// needs (docs/semver.md); exit 1 when any generated crate needs a major release.
    Diff {
        /// The old document.
        old: PathBuf,
        /// The new document.
        new: PathBuf,
        /// Apply this Overlay file to NEW first (repeatable; its `extends` must be NEW's file name).
        #[arg(long)]
        overlay: Vec<PathBuf>,
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
        Command::Diff { old, new, overlay } => {
            let changes = overlay
                .iter()
                .map(|p| xtask::overlay::read(p))
                .collect::<xtask::Result<Vec<_>>>()
                .and_then(|overlays| diff::diff_files(&old, &new, &overlays));
            match changes {
                Ok(changes) => {
                    print!("{}", diff::render(&changes));
                    if diff::needs_major(&changes) {
                        return ExitCode::from(1);
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
