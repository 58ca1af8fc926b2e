//! PEP 440 against Python's `packaging.version.Version`.

use std::process::Command;

use proptest::collection::vec;
use proptest::prelude::*;
use stowaway_versions::Pep440Version;

use crate::common::{self, OracleCell, laws_hold, maybe, near_miss, one_of};

static ORACLE: OracleCell = OracleCell::new();

fn oracle() -> Option<std::sync::MutexGuard<'static, common::Oracle>> {
    common::oracle(&ORACLE, || {
        if !common::runs("python3", &["-c", "import packaging.version"]) {
            return Err("python3 with `packaging` is not installed (pip install packaging)".into());
        }
        let mut command = Command::new("python3");
        command.arg(common::oracle_source("pep440.py"));
        Ok(command)
    })
}

/// Mostly small numbers, so that comparisons often go past the first difference; some with
/// leading zeros, some longer than any machine integer.
fn number() -> BoxedStrategy<String> {
    prop_oneof![
        6 => one_of(&["0", "1", "2", "00", "01", "10"]),
        2 => "[0-9]{1,4}",
        1 => "[1-9][0-9]{19,30}",
    ]
    .boxed()
}

fn separator() -> BoxedStrategy<String> {
    one_of(&["", "", ".", "-", "_"]).boxed()
}

/// `[-_.]? label [-_.]? N?`
fn labelled(labels: &[&'static str]) -> BoxedStrategy<String> {
    (separator(), one_of(labels), separator(), maybe(number()))
        .prop_map(|(a, b, c, d)| [a, b, c, d].concat())
        .boxed()
}

/// Versions from packaging's `VERSION_PATTERN`, in all its spellings.
fn pep440() -> BoxedStrategy<String> {
    let local_segment = prop_oneof![number(), "[a-zA-Z0-9]{1,5}"];
    let local = (
        local_segment.clone(),
        vec((one_of(&[".", "-", "_"]), local_segment), 0..4),
    )
        .prop_map(|(first, rest)| {
            let rest: String = rest.into_iter().map(|(s, seg)| s + &seg).collect();
            format!("+{first}{rest}")
        });
    (
        one_of(&["", "", "", " ", "v", "V"]),
        maybe(number().prop_map(|n| format!("{n}!"))),
        vec(number(), 1..5).prop_map(|r| r.join(".")),
        maybe(labelled(&[
            "a", "alpha", "b", "beta", "c", "rc", "pre", "preview", "A", "Alpha", "RC", "Pre",
        ])),
        maybe(prop_oneof![
            number().prop_map(|n| format!("-{n}")),
            labelled(&["post", "rev", "r", "POST", "Rev"]),
        ]),
        maybe(labelled(&["dev", "DEV"])),
        maybe(local),
        one_of(&["", "", "", " "]),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| [a, b, c, d, e, f, g, h].concat())
        .boxed()
}

#[test]
fn pep440_parsing_agrees_with_packaging() {
    let Some(oracle) = oracle() else { return };
    let versions = vec(
        prop_oneof![pep440(), near_miss(pep440(), ".-_+!vVabcdeiloprstvx019 ")],
        1..64,
    );
    let n = common::parsing_agrees::<Pep440Version, _>(oracle, 300, versions, |answer, ours| {
        (answer == "ok") == ours
    });
    println!("PEP 440: {n} strings parsed as packaging parses them");
}

#[test]
fn pep440_order_agrees_with_packaging() {
    let Some(oracle) = oracle() else { return };
    let n = common::order_agrees::<Pep440Version, _>(oracle, 300, vec((pep440(), pep440()), 1..64));
    println!("PEP 440: {n} pairs ordered as packaging orders them");
}

#[test]
fn pep440_order_laws() {
    laws_hold::<Pep440Version>(pep440());
}
