//! Typosquatting: is an image name, or the name of an npm or PyPI package inside an image, a
//! look-alike of an official or popular one?
//!
//! Two checkers share one engine:
//!
//! - [`ImageNames`] parses a Docker reference ([`ImageReference`]) and compares its registry host
//!   with the well-known registries, its namespace with `library` and the trusted namespaces,
//!   and its repository with Docker Hub's official images. The exact name of an official image
//!   under someone else's Docker Hub namespace is flagged too, unless that namespace is trusted.
//! - [`PackageNames`] normalises a package name as its registry does (PEP 503 for PyPI) and
//!   compares it with the most downloaded packages of its ecosystem. Names in the list are never
//!   flagged; added words are not a technique here, since thousands of legitimate packages
//!   extend popular names (`requests-oauthlib`).
//!
//! The engine (`index`) looks a candidate up in precomputed forms of the popular names, in this
//! order: look-alike characters ([`Technique::Homoglyph`]), separators
//! ([`Technique::Separator`]), swapped words, added words (images only), and last a bounded
//! optimal-string-alignment distance through a SymSpell-style deletion index
//! ([`Technique::KeyboardNeighbour`] when the one difference is a neighbouring key, else
//! [`Technique::EditDistance`]). No step compares the candidate with every popular name, so a
//! check costs microseconds against thousands of names.
//!
//! The bundled lists (`data/`, embedded at build time) can be replaced or extended: the
//! constructors take plain lists, [`parse_list`] reads the one-name-a-line format, and the
//! `bundled_*` functions give the bundled lists to extend. `docs/typosquatting.md` is the
//! user-facing description, with the bounds and the measured false-positive rates.

mod confusable;
mod distance;
mod image;
mod index;
mod lists;
mod package;
mod reference;

use std::fmt;

pub use image::{ImageNames, KNOWN_REGISTRIES};
pub use lists::{bundled_npm, bundled_official_images, bundled_pypi, parse_list};
pub use package::{Ecosystem, PackageNames};
pub use reference::{DOCKER_HUB_HOSTS, ImageReference, ReferenceError};

/// A name that imitates an official or popular one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookalike {
    /// The name that was checked, as given.
    pub name: String,
    /// What it imitates: an official image (`openjdk`), a namespace (`library`, `bitnami`), a
    /// registry host (`docker.io`) or a popular package (`requests`).
    pub imitates: String,
    pub technique: Technique,
    /// One line for a report: what imitates what, and how they differ.
    pub explanation: String,
}

/// How a name imitates another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Technique {
    /// A few characters inserted, deleted, replaced or transposed (`ubunto`, `nignx`).
    EditDistance { distance: usize },
    /// One character replaced by a neighbouring key on a QWERTY keyboard (`ngimx`).
    KeyboardNeighbour,
    /// Characters replaced by ones that look alike (`0penjdk`, `jeIlyfish`, `rnysql`).
    Homoglyph,
    /// Separators `-`, `_`, `.` inserted, removed or exchanged (`crossenv`, `hello_world`).
    Separator,
    /// The same words in another order (`jdk-open`).
    SwappedWords,
    /// A word or number added before or after the name (`openjdk-official`, `golang1`).
    AddedWord,
    /// An official image's exact name under another, untrusted Docker Hub namespace
    /// (`someuser/python`).
    OfficialNameElsewhere,
    /// A registry host that imitates a well-known registry (`d0cker.io`, `docker.io.evil.com`).
    RegistryHost,
}

impl Technique {
    /// A stable identifier, for machine-readable reports: `edit-distance`, `homoglyph`, …
    pub fn id(self) -> &'static str {
        match self {
            Technique::EditDistance { .. } => "edit-distance",
            Technique::KeyboardNeighbour => "keyboard-neighbour",
            Technique::Homoglyph => "homoglyph",
            Technique::Separator => "separator",
            Technique::SwappedWords => "swapped-words",
            Technique::AddedWord => "added-word",
            Technique::OfficialNameElsewhere => "official-name-elsewhere",
            Technique::RegistryHost => "registry-host",
        }
    }

    /// A few words for an explanation: "look-alike characters", "2 edits away", …
    fn phrase(self) -> String {
        match self {
            Technique::EditDistance { distance: 1 } => "1 edit away".to_string(),
            Technique::EditDistance { distance } => format!("{distance} edits away"),
            Technique::KeyboardNeighbour => "a neighbouring key on a QWERTY keyboard".to_string(),
            Technique::Homoglyph => "look-alike characters".to_string(),
            Technique::Separator => "separators changed".to_string(),
            Technique::SwappedWords => "words swapped".to_string(),
            Technique::AddedWord => "a word added".to_string(),
            Technique::OfficialNameElsewhere => {
                "the official name in another namespace".to_string()
            }
            Technique::RegistryHost => "a look-alike registry host".to_string(),
        }
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Lookalike {
    /// A look-alike found by the engine: `part` (the compared part of `name`) imitates `target`,
    /// which is a `subject` ("the official image"), by `technique`, differing as `detail` says.
    fn new(
        name: &str,
        part: &str,
        subject: &str,
        target: &str,
        technique: Technique,
        detail: &str,
    ) -> Self {
        Lookalike {
            name: name.to_string(),
            imitates: target.to_string(),
            technique,
            explanation: format!(
                "{part:?} imitates {subject} {target:?}: {} ({detail})",
                technique.phrase()
            ),
        }
    }
}
