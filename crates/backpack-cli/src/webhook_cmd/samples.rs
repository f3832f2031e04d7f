//! The documented webhook samples: the lookup lives in [`backpack_emulator::samples`] (the
//! emulator's `trigger` sends the same samples); this maps its errors to command-line errors.

pub use backpack_emulator::samples::{Sample, family_of, type_names};

use crate::error::CliError;

/// The documented sample of `type_name` (its first example, or the one named `example`).
pub fn sample(type_name: &str, example: Option<&str>) -> Result<Sample, CliError> {
    backpack_emulator::samples::sample(type_name, example)
        .map_err(|e| CliError::InvalidArgument(e.to_string()))
}
