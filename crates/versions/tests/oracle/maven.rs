//! Maven against maven-artifact's `ComparableVersion`, the jar of the installed Maven, run with
//! Java's single-file source launcher.

use std::process::Command;

use proptest::collection::vec;
use proptest::prelude::*;
use stowaway_versions::MavenVersion;

use crate::common::{self, OracleCell, one_of};

static ORACLE: OracleCell = OracleCell::new();

fn oracle() -> Option<std::sync::MutexGuard<'static, common::Oracle>> {
    common::oracle(&ORACLE, || {
        let jar = std::fs::read_dir("/usr/share/maven/lib")
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("maven-artifact"))
            })
            .ok_or(
                "Maven's maven-artifact jar is not in /usr/share/maven/lib (apt-get install maven)",
            )?;
        if !common::runs("javac", &["-version"]) {
            return Err(
                "a JDK (javac) is not installed (apt-get install default-jdk-headless)".into(),
            );
        }
        let mut command = Command::new("java");
        command
            .arg("-cp")
            .arg(jar)
            .arg(common::oracle_source("MavenOracle.java"));
        Ok(command)
    })
}

/// Versions built from Maven's items: numbers, known and unknown qualifiers in any case, joined
/// by `.`, `-` or nothing; and arbitrary printable strings, since every string is a version.
fn maven() -> BoxedStrategy<String> {
    let item = prop_oneof![
        5 => one_of(&["0", "1", "2", "00", "10", "01"]),
        1 => "[0-9]{1,3}",
        1 => "[0-9]{9,25}",
        4 => one_of(&[
            "alpha", "a", "beta", "b", "milestone", "m", "rc", "cr", "snapshot", "SNAPSHOT", "ga",
            "GA", "final", "Final", "release", "sp", "SP", "foo", "xyz", "", "RC", "M", "A", "c",
        ]),
    ];
    prop_oneof![
        6 => vec((item, one_of(&[".", ".", "-", "-", ""])), 1..7)
            .prop_map(|parts| parts.into_iter().map(|(i, s)| i + &s).collect::<String>()),
        1 => "[ -~]{0,12}",
    ]
    .boxed()
}

#[test]
fn maven_order_agrees_with_comparable_version() {
    let Some(oracle) = oracle() else { return };
    let n = common::order_agrees::<MavenVersion, _>(oracle, 300, vec((maven(), maven()), 1..64));
    println!("Maven: {n} pairs ordered as ComparableVersion orders them");
}

/// Maven's order is antisymmetric but not transitive (see the module documentation): check the
/// one law it keeps, and the cycle it documents, against the oracle too.
#[test]
fn maven_order_is_antisymmetric() {
    common::run(512, (maven(), maven()), |(a, b)| {
        let (a, b) = (a.parse::<MavenVersion>(), b.parse::<MavenVersion>());
        if let (Ok(a), Ok(b)) = (a, b) {
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        }
        Ok(())
    });
}

#[test]
fn maven_documented_cycle() {
    let cycle = [("1-beta", "1"), ("1", "1.sp.0"), ("1.sp.0", "1-beta")];
    for (a, b) in cycle {
        let (x, y) = (a.parse::<MavenVersion>(), b.parse::<MavenVersion>());
        assert!(matches!((x, y), (Ok(x), Ok(y)) if x < y), "{a} < {b}");
    }
    let Some(mut oracle) = oracle() else { return };
    let pairs: Vec<(String, String)> = cycle.iter().map(|&(a, b)| (a.into(), b.into())).collect();
    assert!(
        oracle
            .compare(&pairs)
            .iter()
            .all(|&o| o == Some(std::cmp::Ordering::Less))
    );
}
