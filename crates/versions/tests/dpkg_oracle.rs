//! `DpkgVersion` against dpkg itself: proptest generates versions from a grammar of Debian
//! versions (epochs, `~`, `+`, `.`, `:`, letters, revisions, leading zeros, long numbers) and near
//! misses of it, and `dpkg --compare-versions` judges them. One shell process per test answers a
//! batch of requests per case, running dpkg once or twice per request.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use stowaway_versions::DpkgVersion;

/// Answers `P<TAB>v` with `ok` or `err` (does dpkg accept `v`?) and `C<TAB>a<TAB>b` with `-1`,
/// `0`, `1`, or `err` when dpkg rejects either. `--` keeps versions starting with `-` from being
/// read as options; dpkg's warnings (to stderr) are not errors.
const ORACLE: &str = r#"
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

struct Dpkg {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Dpkg {
    /// `None`, after saying why, when dpkg is missing.
    fn start() -> Option<Dpkg> {
        let found = Command::new("dpkg")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            println!("skipped: dpkg is not installed");
            return None;
        }
        let mut child = Command::new("bash")
            .args(["-c", ORACLE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("bash");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Some(Dpkg {
            _child: child,
            stdin,
            stdout,
        })
    }

    fn ask(&mut self, requests: &[String]) -> Vec<String> {
        for request in requests {
            writeln!(self.stdin, "{request}").expect("oracle's stdin");
        }
        self.stdin.flush().expect("oracle's stdin");
        requests
            .iter()
            .map(|request| {
                let mut line = String::new();
                let n = self.stdout.read_line(&mut line).expect("oracle's stdout");
                assert!(n > 0, "the oracle exited while answering {request:?}");
                line.trim_end().to_string()
            })
            .collect()
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn one_of(options: &[&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(options.to_vec())
        .prop_map(String::from)
        .boxed()
}

/// A piece of an upstream version or revision.
fn piece() -> BoxedStrategy<String> {
    prop_oneof![
        4 => one_of(&["0", "1", "2", "9", "00", "01", "10", "007", "123"]),
        1 => "[0-9]{15,30}",
        4 => one_of(&[".", ".", "+", "~", "~~"]),
        1 => one_of(&["-", ":"]),
        3 => one_of(&["a", "b", "z", "A", "Z", "rc", "dfsg", "ubuntu", "deb", "bpo", "git", "b1"]),
        1 => "[a-zA-Z0-9.+~]{1,4}",
    ]
    .boxed()
}

fn pieces(n: std::ops::Range<usize>) -> BoxedStrategy<String> {
    vec(piece(), n).prop_map(|p| p.concat()).boxed()
}

/// Pieces of a revision, which contains no `-` or `:` (one would end the upstream version there
/// or, before an epoch, make it invalid).
fn revision_pieces() -> BoxedStrategy<String> {
    pieces(1..4)
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
        pieces(0..6),
        revision,
        blank(),
    )
        .prop_map(|(a, b, c, d, e, f)| format!("{a}{b}{c}{d}{e}{f}"))
        .boxed()
}

/// A version with one character inserted, replaced or removed.
fn near_miss() -> BoxedStrategy<String> {
    let alphabet: Vec<char> = ".-+~:_@=! 0129aZ".chars().collect();
    (
        version(),
        any::<prop::sample::Index>(),
        prop::sample::select(alphabet),
        0..3u8,
    )
        .prop_map(|(v, at, c, how)| {
            let mut chars: Vec<char> = v.chars().collect();
            let i = at.index(chars.len() + 1);
            match how {
                0 => chars.insert(i, c),
                1 if i < chars.len() => chars[i] = c,
                _ if i < chars.len() => {
                    chars.remove(i);
                }
                _ => chars.push(c),
            }
            chars.into_iter().collect()
        })
        .boxed()
}

/// Any candidate the oracle can be asked about: dpkg reads an empty argument as a blank version.
fn candidate() -> BoxedStrategy<String> {
    prop_oneof![2 => version(), 1 => near_miss()]
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
fn parsing_agrees_with_dpkg() {
    let Some(dpkg) = Dpkg::start() else {
        return;
    };
    let dpkg = RefCell::new(dpkg);
    let checked = Cell::new(0);
    let result = runner(16).run(&vec(candidate(), 50), |versions| {
        let requests: Vec<String> = versions.iter().map(|v| format!("P\t{v}")).collect();
        for (v, answer) in versions.iter().zip(dpkg.borrow_mut().ask(&requests)) {
            let ours = v.parse::<DpkgVersion>();
            prop_assert_eq!(answer == "ok", ours.is_ok(), "{:?}: {:?}", v, ours);
        }
        checked.set(checked.get() + versions.len());
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!(
        "dpkg: {} strings accepted or rejected as dpkg does",
        checked.get()
    );
}

#[test]
fn order_agrees_with_dpkg() {
    let Some(dpkg) = Dpkg::start() else {
        return;
    };
    let dpkg = RefCell::new(dpkg);
    let (compared, rejected) = (Cell::new(0), Cell::new(0));
    let result = runner(40).run(&vec(pair(), 50), |pairs| {
        let requests: Vec<String> = pairs.iter().map(|(a, b)| format!("C\t{a}\t{b}")).collect();
        for ((a, b), answer) in pairs.iter().zip(dpkg.borrow_mut().ask(&requests)) {
            let ours = a
                .parse::<DpkgVersion>()
                .and_then(|x| Ok(x.cmp(&b.parse::<DpkgVersion>()?)));
            let ours = match ours {
                Ok(Ordering::Less) => "-1",
                Ok(Ordering::Equal) => "0",
                Ok(Ordering::Greater) => "1",
                Err(_) => "err",
            };
            prop_assert_eq!(&answer, ours, "comparing {:?} with {:?}", a, b);
            let counter = if answer == "err" {
                &rejected
            } else {
                &compared
            };
            counter.set(counter.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (compared, rejected) = (compared.get(), rejected.get());
    println!("dpkg: {compared} pairs ordered as dpkg orders them, {rejected} rejected by both");
    assert!(
        compared > 3 * rejected,
        "the grammar mostly makes invalid versions"
    );
}

fn hash_of(v: &DpkgVersion) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Antisymmetry, transitivity, and `==` and `Hash` agreeing with `cmp`, on generated triples.
#[test]
fn order_laws() {
    let result = runner(2000).run(&(version(), version(), version()), |(a, b, c)| {
        let parsed = [&a, &b, &c].map(|s| s.parse::<DpkgVersion>());
        let [Ok(a), Ok(b), Ok(c)] = parsed else {
            return Ok(());
        };
        for (x, y) in [(&a, &b), (&b, &c), (&a, &c)] {
            prop_assert_eq!(x.cmp(y), y.cmp(x).reverse());
            prop_assert_eq!(x == y, x.cmp(y) == Ordering::Equal);
            if x == y {
                prop_assert_eq!(hash_of(x), hash_of(y), "{} == {}", x, y);
            }
        }
        let mut sorted = [&a, &b, &c];
        sorted.sort();
        prop_assert!(sorted[0] <= sorted[2]);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Spellings dpkg considers equal (leading zeros, a zero epoch, a zero revision, a trailing zero
/// digit run) are `==` and hash alike.
#[test]
fn equal_spellings_hash_alike() {
    let variant = (version(), 0..4u8).prop_map(|(v, how)| {
        let t = v.trim_matches([' ', '\t']).to_string();
        let respelled = match how {
            0 if !t.contains(':') => format!("0:{t}"),
            1 if !t.contains('-') && !t.contains(':') => format!("{t}-0"),
            // A leading zero in front of every digit run.
            2 => {
                let mut out = String::new();
                let mut previous_digit = false;
                for c in t.chars() {
                    if c.is_ascii_digit() && !previous_digit {
                        out.push('0');
                    }
                    previous_digit = c.is_ascii_digit();
                    out.push(c);
                }
                out
            }
            _ => t.clone(),
        };
        (t, respelled)
    });
    let result = runner(2000).run(&variant, |(a, b)| {
        if let (Ok(x), Ok(y)) = (a.parse::<DpkgVersion>(), b.parse::<DpkgVersion>()) {
            prop_assert_eq!(&x, &y, "{} and {}", a, b);
            prop_assert_eq!(hash_of(&x), hash_of(&y), "{} and {}", a, b);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn arbitrary_strings_never_panic() {
    let strings = prop_oneof![any::<String>(), "[0-9:~+.a-z -]{0,40}"];
    let result = runner(5000).run(&(strings.clone(), strings), |(a, b)| {
        if let (Ok(x), Ok(y)) = (a.parse::<DpkgVersion>(), b.parse::<DpkgVersion>()) {
            prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
