//! `cargo xtask` entry point.

use clap::{Parser, Subcommand};

// Regen allocates and frees millions of small token and syntax-tree nodes, on several threads;
// mimalloc does that in about half the time of the system allocator (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;
use xtask::{degrade, diff, drift, pull, regen, workspace_root};

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
        /// Exit 1 when any operation, schema or name was generated with a fallback (each is
        /// printed as a `degraded:` line either way).
        #[arg(long)]
        strict: bool,
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
    /// Read drift reports (`backpack_drift::DriftReport` JSON): print a summary, write a proposed
    /// Overlay per spec document into spec/overlays/, print the `diff` verdict of applying it.
    Drift {
        /// Report files (merged).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write the overlays here instead of spec/overlays/.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

/// What regen would degrade in the NEW document of `diff` (with the overlays given).
fn degraded_report(new: &std::path::Path, overlays: &[PathBuf]) -> String {
    let report = overlays
        .iter()
        .map(|p| xtask::overlay::read(p))
        .collect::<xtask::Result<Vec<_>>>()
        .and_then(|overlays| {
            let text = std::fs::read_to_string(new).map_err(|e| xtask::Error::io(new, e))?;
            let name = new.file_name().map(|n| n.to_string_lossy().into_owned());
            degrade::degraded_in(&name.unwrap_or_default(), &text, &overlays)
        });
    degrade::render(&report)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `XTASK_ROOT` runs the tasks on another tree (the tests' scratch copies).
    let root = std::env::var_os("XTASK_ROOT").map_or_else(workspace_root, PathBuf::from);
    let result = match cli.command {
        Command::Pull { name, url, timeout } => {
            pull::run(&root, name.as_deref(), url.as_deref(), timeout)
        }
        Command::Regen { check, strict } => match regen::run_reporting(&root, check) {
            Ok(degraded) if strict && !degraded.is_empty() => {
                eprintln!(
                    "error: --strict: {} degraded item(s)",
                    degraded.items().len()
                );
                return ExitCode::from(1);
            }
            other => other.map(|_| ()),
        },
        Command::Drift { files, out_dir } => {
            drift::run(&root, &files, out_dir.as_deref()).map(|_| ())
        }
        Command::Diff { old, new, overlay } => {
            let changes = overlay
                .iter()
                .map(|p| xtask::overlay::read(p))
                .collect::<xtask::Result<Vec<_>>>()
                .and_then(|overlays| diff::diff_files(&old, &new, &overlays));
            match changes {
                Ok(changes) => {
                    print!("{}", diff::render(&changes));
                    print!("{}", degraded_report(&new, &overlay));
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
