//! NuGet has no oracle here (no .NET on the build machines): vectors from NuGet's versioning
//! documentation (learn.microsoft.com/nuget/concepts/package-versioning) and the cases of
//! NuGet.Versioning's comparer, plus the laws of `Ord` on generated versions.

use proptest::collection::vec;
use proptest::prelude::*;
use stowaway_versions::NuGetVersion;

use crate::common::{laws_hold, maybe, one_of};

fn v(s: &str) -> NuGetVersion {
    s.parse().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn documented_prerelease_order() {
    // SemVer 2.0 precedence, as the documentation's "Pre-release versions" lists it.
    let chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.0.1",
        "1.0.1-alpha",
        "1.0.1",
        "1.1",
        "2.0.0",
    ];
    for pair in chain.windows(2) {
        assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
    }
}

#[test]
fn documented_equivalences() {
    // "Normalized version numbers": leading zeros, a zero fourth part and metadata do not count.
    for (a, b) in [
        ("1.0", "1.0.0"),
        ("1", "1.0.0.0"),
        ("1.01.1", "1.1.1"),
        ("1.00", "1.0.0"),
        ("1.0.0.0", "1.0.0"),
        ("1.0.0+git.hash", "1.0.0"),
        ("1.0.0-beta.1+foo", "1.0.0-beta.1+bar"),
        // Labels compare case-insensitively.
        ("1.0.0-BETA", "1.0.0-beta"),
        ("1.0.0-Beta.1", "1.0.0-bEtA.1"),
        (" 1.0.0 ", "1.0.0"),
    ] {
        assert_eq!(v(a), v(b), "{a} == {b}");
    }
    assert_eq!(v("1.0.0+Meta").to_string(), "1.0.0+Meta");
}

#[test]
fn label_comparison() {
    for (a, b) in [
        // Numeric labels numerically, and below alphanumeric ones.
        ("1.0.0-2", "1.0.0-10"),
        ("1.0.0-10", "1.0.0-a"),
        ("1.0.0-a.b", "1.0.0-a.b.c"),
        ("1.0.0-alpha", "1.0.0-Beta"),
        // Beyond Int32 a numeric label is text, as Int32.TryParse fails on it.
        ("1.0.0-3", "1.0.0-2147483648"),
        ("1.0.0-2147483648", "1.0.0-a"),
    ] {
        assert!(v(a) < v(b), "{a} < {b}");
    }
}

#[test]
fn rejected_versions() {
    for bad in [
        "",
        "a",
        "1.0.0.0.0",
        "1..0",
        "1.0-",
        "1.0-a..b",
        "1.0+",
        "1.0.0-01",
        "-1.0",
        "2147483648",
        "1.0 0",
    ] {
        assert!(bad.parse::<NuGetVersion>().is_err(), "{bad:?}");
    }
    assert!(v("1.0.0-a").is_prerelease() && !v("1.0.0+a").is_prerelease());
}

#[test]
fn nuget_order_laws() {
    let number = one_of(&["0", "1", "2", "00", "01", "10"]);
    let label = prop_oneof![
        one_of(&["0", "1", "2", "10", "2147483648", "-1"]),
        one_of(&["alpha", "Alpha", "ALPHA", "beta", "rc", "a-b"]),
    ];
    let version = (
        vec(number, 1..5).prop_map(|n| n.join(".")),
        maybe(vec(label, 1..4).prop_map(|l| format!("-{}", l.join(".")))),
        maybe(Just("+meta".to_string())),
    )
        .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
        .boxed();
    laws_hold::<NuGetVersion>(version);
}
