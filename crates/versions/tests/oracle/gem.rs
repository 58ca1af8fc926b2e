//! RubyGems against Ruby's `Gem::Version`.

use std::process::Command;

use proptest::collection::vec;
use proptest::prelude::*;
use stowaway_versions::GemVersion;

use crate::common::{self, OracleCell, laws_hold, maybe, near_miss, one_of};

static ORACLE: OracleCell = OracleCell::new();

fn oracle() -> Option<std::sync::MutexGuard<'static, common::Oracle>> {
    common::oracle(&ORACLE, || {
        if !common::runs("ruby", &["-e", "Gem::Version"]) {
            return Err("ruby is not installed (apt-get install ruby)".into());
        }
        let mut command = Command::new("ruby");
        command.arg(common::oracle_source("gem_version.rb"));
        Ok(command)
    })
}

/// Versions from `Gem::Version::VERSION_PATTERN`.
fn gem() -> BoxedStrategy<String> {
    let number = prop_oneof![
        5 => one_of(&["0", "1", "2", "00", "10"]),
        1 => "[0-9]{1,3}",
        1 => "[0-9]{20,30}",
    ];
    let segment = prop_oneof![
        4 => number.clone(),
        2 => one_of(&["a", "b", "pre", "rc", "rc1", "a1", "beta2", "A", "Z", "alpha", "0a", "1b2"]),
        1 => "[0-9a-zA-Z]{1,4}",
    ];
    let pre_segment = prop_oneof![segment.clone(), one_of(&["-", "a-b", "1-"])];
    (
        one_of(&["", "", "", " "]),
        number,
        vec(segment.prop_map(|s| format!(".{s}")), 0..5),
        maybe(vec(pre_segment, 1..4).prop_map(|segments| format!("-{}", segments.join(".")))),
        one_of(&["", "", "", " ", "\n"]),
    )
        .prop_map(|(a, b, c, d, e)| format!("{a}{b}{}{d}{e}", c.concat()))
        // The oracle reads one request per line.
        .prop_map(|v| v.replace('\n', " "))
        .boxed()
}

#[test]
fn gem_parsing_agrees_with_gem_version() {
    let Some(oracle) = oracle() else { return };
    let versions = vec(prop_oneof![gem(), near_miss(gem(), ".-_+0129aZ ")], 1..64);
    let n = common::parsing_agrees::<GemVersion, _>(oracle, 300, versions, |answer, ours| {
        (answer == "ok") == ours
    });
    println!("RubyGems: {n} strings parsed as Gem::Version parses them");
}

#[test]
fn gem_order_agrees_with_gem_version() {
    let Some(oracle) = oracle() else { return };
    let n = common::order_agrees::<GemVersion, _>(oracle, 300, vec((gem(), gem()), 1..64));
    println!("RubyGems: {n} pairs ordered as Gem::Version orders them");
}

#[test]
fn gem_order_laws() {
    laws_hold::<GemVersion>(gem());
}
