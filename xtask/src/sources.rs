//! `spec/sources.toml`: each spec document's name, file, upstream URL, the sha256 of its bytes, and
//! whether those bytes were pulled from Xsolla or reconstructed from its documentation pages.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sources {
    /// One entry per document.
    #[serde(rename = "document")]
    pub documents: Vec<Source>,
}

/// One document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    /// Short name used on the command line (`backpack`, `webhooks`).
    pub name: String,
    /// File name under `spec/`.
    pub file: String,
    /// Where `cargo xtask pull` downloads it from.
    pub url: String,
    /// sha256 (hex) of the bytes in `spec/`.
    pub sha256: String,
    /// Where the bytes in `spec/` come from; `cargo xtask pull` sets [`Provenance::Pulled`].
    pub provenance: Provenance,
}

/// Where a document's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    /// Written by hand from Xsolla's documentation pages (`spec/NOTES.md` lists every reading
    /// chosen), because the published bundle could not be downloaded; edits must keep the sha256
    /// in step.
    Reconstructed,
    /// Downloaded by `cargo xtask pull` from `url`, bytes unchanged.
    Pulled,
}

impl Provenance {
    /// How the README and messages call it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reconstructed => "reconstructed",
            Self::Pulled => "pulled",
        }
    }
}

const HEADER: &str = "# The OpenAPI documents in spec/: upstream URL, sha256 of the bytes, and provenance:\n\
# \"pulled\" = downloaded from `url` by `cargo xtask pull`, bytes unchanged; \"reconstructed\" = written\n\
# by hand from Xsolla's documentation pages (spec/NOTES.md) until a pull replaces it.\n\
# Written by `cargo xtask pull`. Pulled documents are never edited (local fixes go to spec/overlays/).\n\n";

impl Sources {
    /// `spec/sources.toml` under `root`.
    pub fn path(root: &Path) -> PathBuf {
        root.join("spec/sources.toml")
    }

    /// Reads it.
    pub fn load(root: &Path) -> Result<Self> {
        let path = Self::path(root);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        toml::from_str(&text).map_err(|e| Error::Parse {
            what: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Writes it back.
    pub fn save(&self, root: &Path) -> Result<()> {
        let path = Self::path(root);
        let body = toml::to_string(self)
            .map_err(|e| Error::Other(format!("cannot serialize sources: {e}")))?;
        std::fs::write(&path, format!("{HEADER}{body}")).map_err(|e| Error::io(&path, e))
    }

    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Result<&Source> {
        self.documents
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| {
                let known: Vec<_> = self.documents.iter().map(|d| d.name.as_str()).collect();
                Error::Other(format!(
                    "no document named {name:?} in spec/sources.toml (known: {known:?})"
                ))
            })
    }

    /// Documents whose file no longer matches the recorded sha256.
    pub fn mismatches(&self, root: &Path) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for doc in &self.documents {
            let path = root.join("spec").join(&doc.file);
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            if sha256_hex(&bytes) != doc.sha256 {
                out.push(format!("spec/{}", doc.file));
            }
        }
        Ok(out)
    }
}

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
