//! Checks names read from standard input, one a line, and prints the look-alikes:
//!
//! ```sh
//! python3 -m pip list --format=freeze | cut -d= -f1 \
//!     | cargo run -p stowaway-typosquat --example check_names -- pypi
//! echo 0penjdk | cargo run -p stowaway-typosquat --example check_names -- image
//! ```
//!
//! The last line counts names checked and flagged: the false-positive rate, for a list of
//! legitimate names.

use std::io::{self, BufRead};
use std::process::ExitCode;

use stowaway_typosquat::{Ecosystem, ImageNames, Lookalike, PackageNames};

enum Checker {
    Images(ImageNames),
    Packages(PackageNames),
}

impl Checker {
    fn check(&self, name: &str) -> Option<Lookalike> {
        match self {
            Checker::Images(names) => names.check(name),
            Checker::Packages(names) => names.check(name),
        }
    }
}

fn main() -> ExitCode {
    let kind = std::env::args().nth(1).unwrap_or_default();
    let checker = match kind.as_str() {
        "image" => Checker::Images(ImageNames::bundled()),
        "npm" => Checker::Packages(PackageNames::bundled(Ecosystem::Npm)),
        "pypi" => Checker::Packages(PackageNames::bundled(Ecosystem::PyPI)),
        _ => {
            eprintln!("usage: check_names image|npm|pypi < names.txt");
            return ExitCode::from(2);
        }
    };
    let (mut checked, mut flagged) = (0usize, 0usize);
    for line in io::stdin().lock().lines() {
        let Ok(line) = line else {
            eprintln!("standard input is not UTF-8 text");
            return ExitCode::from(2);
        };
        let name = line.trim();
        if name.is_empty() {
            continue;
        }
        checked += 1;
        if let Some(found) = checker.check(name) {
            flagged += 1;
            println!("{}\t{}\t{}", found.technique, found.name, found.explanation);
        }
    }
    println!("{flagged} of {checked} names flagged");
    ExitCode::SUCCESS
}
