//! Every type's `from_str` on arbitrary strings: no panics, and whatever parses is totally ordered.

use proptest::prelude::*;
use stowaway_versions::{GemVersion, GoVersion, MavenVersion, NuGetVersion, Pep440Version, SemVer};

use crate::common::{check_laws, run};

fn check<T: std::str::FromStr + Ord + std::fmt::Display>(a: &str, b: &str) {
    if let (Ok(a), Ok(b)) = (a.parse::<T>(), b.parse::<T>()) {
        check_laws(&a, &b, &a);
    }
}

fn check_all(a: &str, b: &str) {
    check::<Pep440Version>(a, b);
    check::<SemVer>(a, b);
    check::<GoVersion>(a, b);
    check::<MavenVersion>(a, b);
    check::<GemVersion>(a, b);
    check::<NuGetVersion>(a, b);
}

#[test]
fn arbitrary_strings_never_panic() {
    run(2000, (any::<String>(), any::<String>()), |(a, b)| {
        check_all(&a, &b);
        Ok(())
    });
}

#[test]
fn version_like_strings_never_panic() {
    // Digits, separators and letters the grammars care about, including very long numbers.
    let s = "(v|go|=| )?([0-9]{1,40}|[.+!_ -]|a|b|rc|dev|post|alpha|sp|ga|pre|-0|é|٣){0,12}";
    run(4000, (s, s), |(a, b)| {
        check_all(&a, &b);
        Ok(())
    });
}

/// Parses both (they must parse) and says whether `a < b`.
fn less<T: std::str::FromStr + Ord>(a: &str, b: &str) -> bool
where
    T::Err: std::fmt::Display,
{
    let parse = |s: &str| s.parse::<T>().unwrap_or_else(|e| panic!("{e}"));
    parse(a) < parse(b)
}

#[test]
fn numbers_of_any_length_compare_exactly() {
    let big = "1".repeat(400);
    let bigger = format!("{big}2");
    let (a, b) = (format!("1.{big}"), format!("1.{bigger}"));
    assert!(less::<Pep440Version>(&a, &b));
    assert!(less::<MavenVersion>(&a, &b));
    assert!(less::<GemVersion>(&a, &b));
    let (a, b) = (format!("{big}.0.0-{big}"), format!("{big}.0.0-{bigger}"));
    assert!(less::<SemVer>(&a, &b));
    assert!(less::<GoVersion>(&format!("v{a}"), &format!("v{b}")));
    assert!(less::<GoVersion>(
        &format!("go1.{big}"),
        &format!("go1.{bigger}")
    ));
    // NuGet's numbers are .NET Int32s: larger ones are rejected, not wrapped.
    assert!("2147483648.0".parse::<NuGetVersion>().is_err());
    assert!(less::<NuGetVersion>("2147483646.0", "2147483647.0"));
}
