//! `ApkVersion` without an oracle: apk-tools is not packaged for Debian 12, where the tests run.
//! Instead, a table of versions in ascending order covering every rule of Alpine's version format
//! (derived from the APKBUILD reference and apk-tools' documented behaviour, checked pairwise, so
//! the table's order is also transitive), spellings that are equal and ones that are not, and the
//! laws of `Ord`, `Eq` and `Hash` on versions generated from the grammar.

use proptest::collection::vec;
use proptest::prelude::*;
use stowaway_versions::ApkVersion;

use crate::common::{self, hash_of, maybe, one_of};

fn v(s: &str) -> ApkVersion {
    s.parse().unwrap_or_else(|e| panic!("{e}"))
}

/// Strictly ascending; every earlier entry is below every later one.
const ASCENDING: &[&str] = &[
    "0.9.9",
    // Pre-release suffixes, in their order, below the release, with and without numbers.
    "1_alpha",
    "1_alpha1",
    "1_alpha2",
    "1_alpha10",
    "1_beta",
    "1_beta_p1",
    "1_pre1",
    "1_rc",
    "1_rc1",
    "1_rc1-r3",
    "1_rc2",
    // The release, then package releases.
    "1",
    "1-r0",
    "1-r1",
    "1-r9",
    "1-r10",
    // A commit hash sorts above a release number, as strings.
    "1~0a1b",
    "1~0a1b-r0",
    "1~9",
    // Post-release suffixes, in their order.
    "1_cvs",
    "1_cvs1",
    "1_svn",
    "1_git20200101",
    "1_hg",
    "1_p",
    "1_p0",
    "1_p1",
    "1_p1-r1",
    "1_p2",
    "1_p10",
    // A letter sorts above any suffix; a pre-release suffix still lowers it.
    "1a_rc1",
    "1a",
    "1a-r1",
    "1a_p1",
    "1b",
    "1z",
    // Another number sorts above a letter.
    "1.0",
    "1.0.0",
    // Numbers with a leading zero compare as strings, below those without.
    "1.00",
    "1.001",
    "1.01",
    "1.09",
    "1.1",
    "1.1.1",
    "1.2",
    "1.9",
    "1.10",
    "1.10a",
    "1.10.0",
    "2",
    "10",
    "99999999999999999999",
    "100000000000000000000",
    "100000000000000000000.1",
];

#[test]
fn apk_table_is_ascending() {
    let versions: Vec<ApkVersion> = ASCENDING.iter().map(|s| v(s)).collect();
    for (i, a) in versions.iter().enumerate() {
        for b in &versions[i + 1..] {
            assert!(a < b, "{a} < {b}");
            assert!(b > a, "{b} > {a}");
            assert_ne!(a, b);
        }
    }
}

#[test]
fn apk_more_pairs() {
    for (a, b) in [
        // After a suffix number: a further pre-release suffix lowers, a post-release one raises.
        ("1.0_p1_alpha", "1.0_p1"),
        ("1.0_p1", "1.0_p1_p1"),
        ("1.0_rc1_p1", "1.0_rc2"),
        ("1.0_alpha_beta", "1.0_alpha1"),
        ("1.0_rc1~ab", "1.0_rc1_p1"),
        ("1.0~ab-r5", "1.0~b"),
        ("1.0a-r5", "1.0a_p0"),
        ("1.0-r5", "1.0a"),
        ("1.2.3_rc1-r0", "1.2.3-r0"),
        ("1.2.3-r0", "1.2.3.0"),
        ("1", "1.0"),
        ("1.0", "1.0-r0"),
    ] {
        assert!(v(a) < v(b), "{a} < {b}");
    }
}

#[test]
fn apk_equal_spellings() {
    for group in [
        &["1.0", "01.0", "001.0"][..],
        &["1.0_rc1", "1.0_rc01", "1.0_rc001"],
        &["1.0-r1", "1.0-r01"],
        &["1.0_p0", "1.0_p00"],
        &["10.1_git1~ab-r2", "0010.1_git01~ab-r002"],
    ] {
        for a in group {
            for b in group {
                assert_eq!(v(a), v(b), "{a} == {b}");
                assert_eq!(hash_of(&v(a)), hash_of(&v(b)), "{a} and {b}");
            }
        }
    }
    assert_eq!(v("01.0").to_string(), "01.0");
}

#[test]
fn apk_invalid_versions_are_rejected() {
    for bad in [
        "",
        "a1",
        "v1.0",
        ".1",
        "1.",
        "1..2",
        "1.2ab",
        "1.2A",
        "1_foo",
        "1_",
        "1_alphabet",
        "1_P1",
        "1-1",
        "1-r",
        "1-r1-r2",
        "1-r1a",
        "1~",
        "1~xyz",
        "1~AB",
        "1~ab_p1",
        "1~ab~cd",
        "1.0 ",
        " 1.0",
        "1a.2",
        "1_rc1.2",
        "1-r1_p1",
        "1.0_p1a",
        "1a1",
        "1,0",
        "1.0é",
    ] {
        assert!(bad.parse::<ApkVersion>().is_err(), "{bad:?}");
    }
}

fn number() -> BoxedStrategy<String> {
    prop_oneof![
        5 => one_of(&["0", "1", "2", "9", "10", "00", "01", "010", "001"]),
        1 => "[0-9]{18,25}",
    ]
    .boxed()
}

/// Versions of the grammar: numbers, a letter, suffixes with numbers, a hash, a release.
fn apk() -> BoxedStrategy<String> {
    let suffix = (
        one_of(&["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"]),
        maybe(number()),
    )
        .prop_map(|(s, n)| format!("_{s}{n}"));
    (
        number(),
        vec(number().prop_map(|n| format!(".{n}")), 0..3),
        maybe(one_of(&["a", "b", "z"])),
        vec(suffix, 0..3),
        maybe(one_of(&["~0", "~ab", "~abc", "~b"])),
        maybe(number().prop_map(|n| format!("-r{n}"))),
    )
        .prop_map(|(a, b, c, d, e, f)| format!("{a}{}{c}{}{e}{f}", b.concat(), d.concat()))
        .boxed()
}

/// Triples sharing prefixes often, so that comparisons reach every kind of part.
fn triple() -> BoxedStrategy<(String, String, String)> {
    prop_oneof![
        (apk(), apk(), apk()),
        (apk(), apk(), apk(), apk()).prop_map(|(p, a, b, c)| {
            // The prefix up to its suffixes, so that what follows still fits the grammar.
            let p = p
                .split(['_', '~', '-'])
                .next()
                .unwrap_or_default()
                .to_string();
            let tail = |s: String| {
                s.split_once('_')
                    .map(|(_, t)| format!("_{t}"))
                    .unwrap_or_default()
            };
            (
                format!("{p}{}", tail(a)),
                format!("{p}{}", tail(b)),
                format!("{p}{}", tail(c)),
            )
        }),
    ]
    .boxed()
}

/// Antisymmetry, transitivity, and `==` and `Hash` agreeing with `cmp`.
#[test]
fn apk_order_laws() {
    common::hashed_laws_hold::<ApkVersion>(5000, triple(), true);
}

/// A leading zero on the first number, on every suffix number and on the release number.
fn with_leading_zeros(s: &str) -> String {
    let mut out = String::from("0");
    let mut after_name = false;
    for c in s.chars() {
        if c.is_ascii_digit() && (after_name || out.ends_with("-r")) {
            out.push('0');
        }
        after_name = match c {
            '_' => true,
            'a'..='z' => after_name,
            _ => false,
        };
        out.push(c);
    }
    out
}

/// Leading zeros on the first number, suffix numbers and the release change nothing.
#[test]
fn apk_equal_spellings_hash_alike() {
    let spellings = apk().prop_map(|s| {
        let respelled = with_leading_zeros(&s);
        (s, respelled)
    });
    common::equal_spellings_hash_alike::<ApkVersion>(2000, spellings, true);
}

#[test]
fn apk_arbitrary_strings_never_panic() {
    let strings = prop_oneof![
        any::<String>(),
        "[0-9a-z._~-]{0,30}",
        "[0-9]{1,3}(\\.[0-9]{1,3}|_p|_rc|-r1|a|~a|é){0,6}"
    ];
    common::never_panics::<ApkVersion>(5000, strings);
}
