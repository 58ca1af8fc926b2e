//! Look-alike npm and PyPI package names: [`PackageNames`].
//!
//! Thousands of legitimate packages have names near popular ones (`pytest-xdist`, `types-six`,
//! `colors` beside `color`), so the rules here are stricter than for images:
//!
//! - a name in the popular list is never flagged, and only a name outside it can imitate one, so
//!   the imitated package is always the more popular;
//! - added words are not a technique (`requests-oauthlib` is legitimate), with one exception on
//!   npm: a popular name with `js`, `.js` or `-js` appended (`d3.js`), a classic npm squat;
//! - edit distance needs length: none for popular names shorter than six characters, one edit
//!   up to nine, two from ten on;
//! - names are compared in their registry's normal form: PyPI's PEP 503 (lowercase, runs of
//!   `-`, `_`, `.` as one `-`), npm's lowercase;
//! - a scoped npm name (`@scope/name`) is compared whole, so a look-alike scope (`@typse/node`)
//!   is caught, but only with scoped names of other scopes: a scope has one owner, who cannot
//!   squat on themselves, and scoped and unscoped names are not compared with each other
//!   (`babel-core` is the pre-scope name of `@babel/core`, not a look-alike); the scope counts
//!   as a word for the edit bound (`@svgr/core` is not within reach of `@pkgr/core`).

use crate::index::{AddedWords, NameIndex, Query, Rules};
use crate::lists::{bundled_npm, bundled_pypi};
use crate::{Lookalike, Technique};

/// A package registry whose names are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    Npm,
    PyPI,
}

/// The suffixes that make an npm name a look-alike of the name without them.
const NPM_SUFFIXES: &[&str] = &[".js", "-js", "js"];

impl Ecosystem {
    /// `name` in the form the registry compares names in: for PyPI, PEP 503 normalisation
    /// (lowercase, every run of `-`, `_`, `.` replaced by one `-`); for npm, lowercase.
    pub fn normalize(self, name: &str) -> String {
        let name = name.trim();
        match self {
            Ecosystem::Npm => name.to_lowercase(),
            Ecosystem::PyPI => {
                let mut out = String::with_capacity(name.len());
                let mut in_run = false;
                for c in name.chars() {
                    if matches!(c, '-' | '_' | '.') {
                        if !in_run {
                            out.push('-');
                        }
                        in_run = true;
                    } else {
                        out.extend(c.to_lowercase());
                        in_run = false;
                    }
                }
                out
            }
        }
    }

    fn label(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
        }
    }
}

/// The scope of an npm name (`@babel` of `@babel/core`).
fn npm_scope(name: &str) -> Option<&str> {
    name.starts_with('@')
        .then(|| name.split_once('/').map(|(scope, _)| scope))
        .flatten()
}

/// Edit bounds by the length of the part of the popular name that differs.
fn package_edits(len: usize) -> usize {
    match len {
        0..=5 => 0,
        6..=9 => 1,
        _ => 2,
    }
}

fn package_rules() -> Rules {
    Rules {
        max_edits: package_edits,
        min_word_len: 6,
    }
}

/// Checks package names of one ecosystem against its most popular packages.
#[derive(Debug, Clone)]
pub struct PackageNames {
    ecosystem: Ecosystem,
    popular: NameIndex,
}

impl PackageNames {
    /// The bundled list of the ecosystem's 5,000 most downloaded packages.
    pub fn bundled(ecosystem: Ecosystem) -> Self {
        let popular = match ecosystem {
            Ecosystem::Npm => bundled_npm(),
            Ecosystem::PyPI => bundled_pypi(),
        };
        PackageNames::new(ecosystem, popular)
    }

    /// `popular` is a list of package names, most popular first (the order decides which of two
    /// equally near names a look-alike imitates). Names are normalised here.
    pub fn new(ecosystem: Ecosystem, popular: Vec<String>) -> Self {
        let popular = popular
            .iter()
            .map(|name| ecosystem.normalize(name))
            .collect();
        PackageNames {
            ecosystem,
            popular: NameIndex::new(popular, package_rules()),
        }
    }

    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// Whether `name` is in the popular list (after normalisation).
    pub fn is_popular(&self, name: &str) -> bool {
        self.popular.contains(&self.ecosystem.normalize(name))
    }

    /// The look-alike that `name` is, if any.
    pub fn check(&self, name: &str) -> Option<Lookalike> {
        let normal = self.ecosystem.normalize(name);
        // npm's own limit; longer strings are not names.
        if normal.len() > 214 {
            return None;
        }
        let (added_words, scope) = match self.ecosystem {
            Ecosystem::Npm => (AddedWords::Suffixes(NPM_SUFFIXES), npm_scope(&normal)),
            Ecosystem::PyPI => (AddedWords::Never, None),
        };
        let query = Query {
            added_words,
            max_edits: package_edits,
            end_edits: false,
        };
        let found = self.popular.find(&normal, query, |rank| {
            let target_scope = npm_scope(self.popular.name(rank));
            match self.ecosystem {
                Ecosystem::Npm => {
                    scope.is_some() == target_scope.is_some()
                        && (scope.is_none() || scope != target_scope)
                }
                Ecosystem::PyPI => true,
            }
        })?;
        let subject = format!("the popular {} package", self.ecosystem.label());
        let target = self.popular.name(found.target);
        let mut lookalike =
            Lookalike::new(name, name, &subject, target, found.technique, &found.detail);
        if let Technique::AddedWord = found.technique {
            lookalike.explanation = format!(
                "{name:?} imitates {subject} {target:?}: a suffix added ({})",
                found.detail
            );
        }
        Some(lookalike)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(names: &PackageNames, name: &str) -> Option<(String, Technique)> {
        names.check(name).map(|l| (l.imitates, l.technique))
    }

    fn flagged(imitates: &str, technique: Technique) -> Option<(String, Technique)> {
        Some((imitates.to_string(), technique))
    }

    #[test]
    fn pep503() {
        assert_eq!(
            Ecosystem::PyPI.normalize("Foo.Bar__baz-_-qux"),
            "foo-bar-baz-qux"
        );
        assert_eq!(Ecosystem::PyPI.normalize("  PyYAML "), "pyyaml");
        assert_eq!(Ecosystem::Npm.normalize("JSONStream"), "jsonstream");
    }

    #[test]
    fn known_pypi_incidents() {
        let pypi = PackageNames::bundled(Ecosystem::PyPI);
        let distance = |d| Technique::EditDistance { distance: d };
        assert_eq!(
            check(&pypi, "jeIlyfish"),
            flagged("jellyfish", Technique::Homoglyph)
        );
        assert_eq!(check(&pypi, "urlib3"), flagged("urllib3", distance(1)));
        assert_eq!(check(&pypi, "reqeusts"), flagged("requests", distance(1)));
        assert_eq!(check(&pypi, "colourama"), flagged("colorama", distance(1)));
        // An added "3", but also one edit from a long name: caught by distance.
        assert_eq!(
            check(&pypi, "python3-dateutil"),
            flagged("python-dateutil", distance(1))
        );
        assert_eq!(
            check(&pypi, "python3_dateutil"),
            flagged("python-dateutil", distance(1))
        );
        // PEP 503: these are the same project as the popular one.
        assert_eq!(check(&pypi, "Python_Dateutil"), None);
        assert_eq!(check(&pypi, "requests"), None);
        assert_eq!(check(&pypi, "requests-oauthlib"), None);
        assert_eq!(check(&pypi, "requests-mock"), None);
    }

    #[test]
    fn known_npm_incidents() {
        let npm = PackageNames::bundled(Ecosystem::Npm);
        assert_eq!(
            check(&npm, "crossenv"),
            flagged("cross-env", Technique::Separator)
        );
        assert_eq!(
            check(&npm, "loadsh"),
            flagged("lodash", Technique::EditDistance { distance: 1 })
        );
        assert_eq!(check(&npm, "d3.js"), flagged("d3", Technique::AddedWord));
        assert_eq!(check(&npm, "lodash"), None);
        // electron and babel-cli are not among the bundled 5,000; with a list that has them:
        let extended = PackageNames::new(
            Ecosystem::Npm,
            bundled_npm()
                .into_iter()
                .chain(["electron".into(), "babel-cli".into()])
                .collect(),
        );
        assert_eq!(
            check(&extended, "electorn"),
            flagged("electron", Technique::EditDistance { distance: 1 })
        );
        assert_eq!(
            check(&extended, "babelcli"),
            flagged("babel-cli", Technique::Separator)
        );
    }

    #[test]
    fn each_technique_positive_and_negative() {
        let npm = PackageNames::bundled(Ecosystem::Npm);
        let pypi = PackageNames::bundled(Ecosystem::PyPI);
        // Edit distance needs length.
        assert_eq!(
            check(&pypi, "reqests"),
            flagged("requests", Technique::EditDistance { distance: 1 })
        );
        assert_eq!(
            check(&pypi, "sqlalcheny"),
            flagged("sqlalchemy", Technique::KeyboardNeighbour)
        );
        assert_eq!(
            check(&pypi, "sqlalchmey"),
            flagged("sqlalchemy", Technique::EditDistance { distance: 1 })
        );
        assert_eq!(check(&pypi, "sqlalchmy2x"), None); // three edits
        assert_eq!(check(&pypi, "sixx"), None); // too short for edit distance
        assert_eq!(check(&pypi, "requests2"), None); // one end only: an added word in effect
        assert_eq!(check(&pypi, "equests"), None);
        assert_eq!(check(&pypi, "rfc3987"), None); // digits only: a version, not an imitation
        // Keyboard neighbour.
        assert_eq!(
            check(&npm, "exprass"),
            flagged("express", Technique::EditDistance { distance: 1 })
        );
        assert_eq!(
            check(&npm, "exprwss"),
            flagged("express", Technique::KeyboardNeighbour)
        );
        assert_eq!(check(&npm, "expre"), None);
        // Homoglyphs work at any length.
        assert_eq!(check(&pypi, "s1x"), flagged("six", Technique::Homoglyph));
        assert_eq!(
            check(&npm, "rnorgan"),
            flagged("morgan", Technique::Homoglyph)
        );
        assert_eq!(check(&npm, "m0rgen"), None);
        // Separators.
        assert_eq!(
            check(&pypi, "pythondateutil"),
            flagged("python-dateutil", Technique::Separator)
        );
        assert_eq!(
            check(&npm, "cross_env"),
            flagged("cross-env", Technique::Separator)
        );
        assert_eq!(check(&pypi, "typing.extensions"), None); // PEP 503 makes it the same name
        // Swapped words.
        assert_eq!(
            check(&pypi, "dateutil-python"),
            flagged("python-dateutil", Technique::SwappedWords)
        );
        assert_eq!(
            check(&npm, "env-cross"),
            flagged("cross-env", Technique::SwappedWords)
        );
        assert_eq!(
            check(&npm, "envcross"),
            flagged("cross-env", Technique::SwappedWords)
        );
        assert_eq!(check(&npm, "env-crossing"), None);
        // Added words: npm's .js suffix only.
        assert_eq!(
            check(&npm, "expressjs"),
            flagged("express", Technique::AddedWord)
        );
        assert_eq!(check(&npm, "express-official"), None);
        assert_eq!(check(&pypi, "requestsjs"), None);
    }

    #[test]
    fn npm_scopes() {
        let npm = PackageNames::bundled(Ecosystem::Npm);
        assert_eq!(
            check(&npm, "@angluar/core"),
            flagged("@angular/core", Technique::EditDistance { distance: 1 })
        );
        assert_eq!(check(&npm, "@typse/node"), None); // a five-letter scope has no edit budget
        assert_eq!(
            check(&npm, "@babeI/core"),
            flagged("@babel/core", Technique::Homoglyph)
        );
        // Same scope, same owner: never a squat.
        assert_eq!(check(&npm, "@types/nodes"), None);
        assert_eq!(check(&npm, "@babel/cores"), None);
        assert_eq!(check(&npm, "@babel/core"), None);
        // Scoped and unscoped names are not compared.
        assert_eq!(check(&npm, "babel-core"), None);
        assert_eq!(check(&npm, "types-node"), None);
        assert_eq!(check(&npm, "@lodash/core"), None);
        // The scope is a word of its own for the edit bound.
        assert_eq!(check(&npm, "@svgr/core"), None);
    }

    #[test]
    fn popular_names_are_never_flagged() {
        for ecosystem in [Ecosystem::Npm, Ecosystem::PyPI] {
            let names = PackageNames::bundled(ecosystem);
            let list = match ecosystem {
                Ecosystem::Npm => bundled_npm(),
                Ecosystem::PyPI => bundled_pypi(),
            };
            for name in list {
                assert!(names.is_popular(&name));
                assert_eq!(names.check(&name), None, "{name}");
            }
        }
    }

    /// The false-positive rate: ranks 2001-5000 checked against ranks 1-2000 (all legitimate).
    fn false_positives(ecosystem: Ecosystem, list: Vec<String>) -> Vec<String> {
        let (top, rest) = list.split_at(2000);
        let names = PackageNames::new(ecosystem, top.to_vec());
        rest.iter()
            .filter_map(|name| names.check(name))
            .map(|l| format!("{} ~ {} ({})", l.name, l.imitates, l.technique))
            .collect()
    }

    #[test]
    fn false_positive_rate_is_under_one_percent() {
        for (ecosystem, list) in [
            (Ecosystem::PyPI, bundled_pypi()),
            (Ecosystem::Npm, bundled_npm()),
        ] {
            let flagged = false_positives(ecosystem, list);
            println!("{ecosystem:?}: {} of 3000 flagged", flagged.len());
            for line in &flagged {
                println!("  {line}");
            }
            assert!(
                flagged.len() < 30,
                "{ecosystem:?}: {} of 3000 flagged",
                flagged.len()
            );
        }
    }
}
