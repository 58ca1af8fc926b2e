//! `DpkgVersion` against dpkg itself: proptest generates versions from a grammar of Debian
//! versions (epochs, `~`, `+`, `.`, `:`, letters, revisions, leading zeros, long numbers) and near
//! misses of it, and `dpkg --compare-versions` judges them. One shell process answers a batch of
//! requests per case, running dpkg once or twice per request.

use proptest::collection::vec;
use proptest::prelude::*;
use stowaway_versions::DpkgVersion;

use crate::common::{self, OracleCell, Rejected, near_miss, one_of, pieces};

/// Answers `P<TAB>v` with `ok` or `err` (does dpkg accept `v`?) and `C<TAB>a<TAB>b` with `-1`,
/// `0`, `1`, or `err` when dpkg rejects either. `--` keeps versions starting with `-` from being
/// read as options; dpkg's warnings (to stderr) are not errors.
const PROGRAM: &str = r#"
while IFS=$'\t' read -r op a b; do
  case "$op" in
    P) dpkg --compare-versions -- "$a" eq "$a" 2>/dev/null
       if [ $? -le 1 ]; then echo ok; else echo err; fi ;;
    C) dpkg --compare-versions -- "$a" lt "$b" 2>/dev/null; r=$?
       if [ $r -eq 0 ]; then echo -1
       elif [ $r -ne 1 ]; then echo err
       elif dpkg --compare-versions -- "$a" eq "$b" 2>/dev/null; then echo 0
       else echo 1; fi ;;
  esac
done
"#;

static ORACLE: OracleCell = OracleCell::new();

fn oracle() -> Option<std::sync::MutexGuard<'static, common::Oracle>> {
    common::oracle(&ORACLE, || {
        if !common::runs("dpkg", &["--version"]) {
            return Err("dpkg is not installed".into());
        }
        Ok(common::command("bash", &["-c", PROGRAM]))
    })
}

/// A piece of an upstream version or revision.
fn piece() -> BoxedStrategy<String> {
    prop_oneof![
        5 => common::digits(),
        4 => one_of(&[".", ".", "+", "~", "~~"]),
        1 => one_of(&["-", ":"]),
        3 => one_of(&["a", "b", "z", "A", "Z", "rc", "dfsg", "ubuntu", "deb", "bpo", "git", "b1"]),
        1 => "[a-zA-Z0-9.+~]{1,4}",
    ]
    .boxed()
}

/// Pieces of a revision, which contains no `-` or `:` (one would end the upstream version there
/// or, before an epoch, make it invalid).
fn revision_pieces() -> BoxedStrategy<String> {
    pieces(piece(), 1..4)
        .prop_map(|r| r.replace(['-', ':'], "."))
        .boxed()
}

/// Versions of the grammar, with epochs (some beyond dpkg's limits) and revisions.
fn version() -> BoxedStrategy<String> {
    let epoch = prop_oneof![
        4 => Just(String::new()),
        2 => one_of(&["0:", "1:", "2:", "00:", "01:", "10:"]),
        1 => one_of(&["-0:", "+1:", "-1:", "2147483647:", "2147483648:", ":", "a:"]),
        1 => "[0-9]{1,12}:",
    ];
    let revision = prop_oneof![
        2 => Just(String::new()),
        3 => revision_pieces().prop_map(|r| format!("-{r}")),
    ];
    let blank = || one_of(&["", "", "", " "]);
    (
        blank(),
        epoch,
        one_of(&["0", "1", "2", "10", "a", "~"]),
        pieces(piece(), 0..6),
        revision,
        blank(),
    )
        .prop_map(|(a, b, c, d, e, f)| format!("{a}{b}{c}{d}{e}{f}"))
        .boxed()
}

/// Any candidate the oracle can be asked about: dpkg reads an empty argument as a blank version.
fn candidate() -> BoxedStrategy<String> {
    prop_oneof![2 => version(), 1 => near_miss(version(), ".-+~:_@=! 0129aZ")]
        .prop_filter("dpkg reads \"\" as a blank version", |v| !v.is_empty())
        .boxed()
}

/// Pairs of independent versions and of versions sharing a prefix, which compare deep inside.
fn pair() -> BoxedStrategy<(String, String)> {
    prop_oneof![
        (candidate(), candidate()),
        (version(), revision_pieces(), revision_pieces())
            .prop_map(|(p, a, b)| (p.trim_end().to_string(), a, b))
            .prop_map(|(p, a, b)| (format!("{p}{a}"), format!("{p}{b}")))
            .prop_filter("non-empty", |(a, b)| !a.is_empty() && !b.is_empty()),
    ]
    .boxed()
}

#[test]
fn dpkg_parsing_agrees_with_dpkg() {
    let Some(oracle) = oracle() else { return };
    let versions = vec(candidate(), 50);
    let n = common::parsing_agrees::<DpkgVersion, _>(oracle, 16, versions, |answer, ours| {
        (answer == "ok") == ours
    });
    println!("dpkg: {n} strings accepted or rejected as dpkg does");
}

#[test]
fn dpkg_order_agrees_with_dpkg() {
    let Some(oracle) = oracle() else { return };
    let pairs = vec(pair(), 50);
    let (compared, rejected) =
        common::order_agrees_or_rejects::<DpkgVersion, _>(oracle, 40, pairs, Rejected::ByBoth, 2);
    println!("dpkg: {compared} pairs ordered as dpkg orders them, {rejected} rejected by both");
}

/// Antisymmetry, transitivity, and `==` and `Hash` agreeing with `cmp`, on generated triples.
#[test]
fn dpkg_order_laws() {
    common::hashed_laws_hold::<DpkgVersion>(2000, (version(), version(), version()), false);
}

/// Spellings dpkg considers equal (leading zeros, a zero epoch, a zero revision, a trailing zero
/// digit run) are `==` and hash alike.
#[test]
fn dpkg_equal_spellings_hash_alike() {
    let variant = (version(), 0..4u8).prop_map(|(v, how)| {
        let t = v.trim_matches([' ', '\t']).to_string();
        let respelled = match how {
            0 if !t.contains(':') => format!("0:{t}"),
            1 if !t.contains('-') && !t.contains(':') => format!("{t}-0"),
            2 => common::leading_zeros(&t),
            _ => t.clone(),
        };
        (t, respelled)
    });
    common::equal_spellings_hash_alike::<DpkgVersion>(2000, variant, false);
}

#[test]
fn dpkg_arbitrary_strings_never_panic() {
    let strings = prop_oneof![any::<String>(), "[0-9:~+.a-z -]{0,40}"];
    common::never_panics::<DpkgVersion>(5000, strings);
}
