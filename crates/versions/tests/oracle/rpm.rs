//! `RpmVersion` against rpm itself: proptest generates `[epoch:]version[-release]` strings
//! (digits with leading zeros and of any length, letters of both cases, `~`, `^`, separators,
//! non-ASCII characters) and rpm's `rpm.vercmp` (rpm 4.18's `rpmverCmp`, run in the Lua
//! interpreter built into `rpm`) orders them. One `rpm` process answers every batch.

use std::process::Command;

use proptest::collection::vec;
use proptest::prelude::*;
use stowaway_versions::RpmVersion;

use crate::common::{self, OracleCell, Rejected, one_of, pieces};

/// Reads `C<TAB>a<TAB>b` lines and answers `-1`, `0`, `1`, or `err` when rpm cannot compare them.
/// (The macro body must contain no `%` and balanced braces.)
const PROGRAM: &str = r#"%{lua:
for line in io.lines() do
  local pair = string.sub(line, 3)
  local tab = string.find(pair, "\t", 1, true)
  local ok, r = pcall(rpm.vercmp, string.sub(pair, 1, tab - 1), string.sub(pair, tab + 1))
  if not ok or r == nil then io.write("err\n")
  elseif r < 0 then io.write("-1\n")
  elseif r > 0 then io.write("1\n")
  else io.write("0\n") end
  io.flush()
end
}"#;

static ORACLE: OracleCell = OracleCell::new();

fn oracle() -> Option<std::sync::MutexGuard<'static, common::Oracle>> {
    common::oracle(&ORACLE, || {
        let works = Command::new("rpm")
            .args(["--eval", "%{lua: io.write(rpm.vercmp('1', '2'))}"])
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"-1"));
        if !works {
            return Err("rpm is not installed (apt-get install rpm)".into());
        }
        Ok(common::command("rpm", &["--eval", PROGRAM]))
    })
}

/// A piece of a version or release: segments, `~`, `^`, and separators.
fn piece() -> BoxedStrategy<String> {
    prop_oneof![
        5 => common::digits(),
        4 => one_of(&[".", ".", "_", "+", "~", "^", "~~", "^^"]),
        1 => one_of(&["%", "{", "}", ":", "é", "..", "._"]),
        3 => one_of(&["a", "b", "z", "A", "Z", "rc", "el", "fc", "git", "alpha", "beta", "B"]),
        1 => "[a-zA-Z0-9._~^]{1,4}",
    ]
    .boxed()
}

fn evr() -> BoxedStrategy<String> {
    let epoch = prop_oneof![
        4 => Just(String::new()),
        2 => one_of(&["0:", "1:", "2:", "00:", "01:", "10:", ":"]),
        1 => "[0-9]{15,25}:",
    ];
    let release = prop_oneof![
        1 => Just(String::new()),
        3 => pieces(piece(), 1..4).prop_map(|r| format!("-{r}")),
    ];
    (epoch, pieces(piece(), 1..6), release)
        .prop_map(|(e, v, r)| format!("{e}{v}{r}"))
        .boxed()
}

/// Pairs of independent versions and of versions sharing a prefix, which compare deep inside.
fn pair() -> BoxedStrategy<(String, String)> {
    prop_oneof![
        (evr(), evr()),
        (evr(), pieces(piece(), 0..3), pieces(piece(), 0..3))
            .prop_map(|(p, a, b)| (format!("{p}{a}"), format!("{p}{b}"))),
    ]
    .boxed()
}

#[test]
fn rpm_order_agrees_with_rpm() {
    let Some(oracle) = oracle() else { return };
    let pairs = vec(pair(), 50);
    let (compared, skipped) =
        common::order_agrees_or_rejects::<RpmVersion, _>(oracle, 100, pairs, Rejected::Skip, 5);
    println!(
        "rpm: {compared} pairs ordered as rpm.vercmp orders them ({skipped} not versions here)"
    );
}

/// Spellings rpm considers equal (leading zeros, other separators) are `==` and hash alike.
#[test]
fn rpm_equal_spellings_hash_alike() {
    let variant = (evr(), 0..3u8).prop_map(|(v, how)| {
        let respelled = match how {
            0 => v.replace('.', "_"),
            1 => v.replace('.', ".."),
            _ => common::leading_zeros(&v),
        };
        (v, respelled)
    });
    common::equal_spellings_hash_alike::<RpmVersion>(2000, variant, false);
}

/// Antisymmetry, transitivity, and `==` and `Hash` agreeing with `cmp`, on generated triples.
#[test]
fn rpm_order_laws() {
    common::hashed_laws_hold::<RpmVersion>(2000, (evr(), evr(), evr()), false);
}

#[test]
fn rpm_arbitrary_strings_never_panic() {
    let strings = prop_oneof![any::<String>(), "[0-9:~^_.a-zA-Zé -]{0,40}"];
    common::never_panics::<RpmVersion>(5000, strings);
}

#[test]
fn rpm_numbers_of_any_length_compare_exactly() {
    let big = "9".repeat(500);
    let parse = |s: String| s.parse::<RpmVersion>().unwrap_or_else(|e| panic!("{e}"));
    assert!(parse(format!("1.{big}-1")) < parse(format!("1.1{big}-1")));
    assert!(parse(format!("{big}:1")) < parse(format!("1{big}:0")));
    assert_eq!(parse(format!("000{big}:1-1")), parse(format!("{big}:1-01")));
}
