//! Shared by the version tests: a reference implementation ("oracle") running as one process per
//! ecosystem that answers one line per request line, and the laws every `Ord` must obey.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::fmt::Display;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseResult, TestRunner};

/// A running oracle. Requests are `P<TAB>version` (does it parse? answers `ok` or `err`) and
/// `C<TAB>a<TAB>b` (answers `-1`, `0`, `1`, or `err` when either does not parse).
pub struct Oracle {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

pub type OracleCell = OnceLock<Result<Mutex<Oracle>, String>>;

impl Oracle {
    fn spawn(mut command: Command) -> Result<Oracle, String> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(Oracle {
            _child: child,
            stdin,
            stdout,
        })
    }

    /// Sends all requests, then reads one answer per request.
    pub fn ask(&mut self, requests: &[String]) -> Vec<String> {
        for request in requests {
            assert!(!request.contains('\n'), "request {request:?} spans lines");
            writeln!(self.stdin, "{request}").expect("oracle's stdin");
        }
        self.stdin.flush().expect("oracle's stdin");
        requests
            .iter()
            .map(|request| {
                let mut line = String::new();
                let n = self.stdout.read_line(&mut line).expect("oracle's stdout");
                assert!(n > 0, "the oracle exited while answering {request:?}");
                line.trim_end_matches('\n').to_string()
            })
            .collect()
    }

    pub fn compare(&mut self, pairs: &[(String, String)]) -> Vec<Option<Ordering>> {
        let requests: Vec<String> = pairs.iter().map(|(a, b)| format!("C\t{a}\t{b}")).collect();
        self.ask(&requests)
            .into_iter()
            .map(|answer| match answer.as_str() {
                "-1" => Some(Ordering::Less),
                "0" => Some(Ordering::Equal),
                "1" => Some(Ordering::Greater),
                _ => None,
            })
            .collect()
    }

    pub fn parses(&mut self, versions: &[String]) -> Vec<String> {
        let requests: Vec<String> = versions.iter().map(|v| format!("P\t{v}")).collect();
        self.ask(&requests)
    }
}

/// The oracle of this test binary, started on first use; `None` (after printing why the test is
/// skipped) when the tool it needs is missing.
pub fn oracle(
    cell: &'static OracleCell,
    start: impl FnOnce() -> Result<Command, String>,
) -> Option<MutexGuard<'static, Oracle>> {
    match cell.get_or_init(|| start().and_then(Oracle::spawn).map(Mutex::new)) {
        Ok(oracle) => Some(oracle.lock().unwrap_or_else(PoisonError::into_inner)),
        Err(why) => {
            println!("skipped: {why}");
            None
        }
    }
}

/// The source of an oracle program kept in `tests/oracle/programs/`.
pub fn oracle_source(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracle/programs")
        .join(name)
}

/// Stowaway's cache directory, where scripts/with-test-deps installs oracles: `$XDG_CACHE_HOME/stowaway`
/// or `~/.cache/stowaway`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("stowaway")
}

/// Whether `program args…` runs and succeeds.
pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `program args…`, to start an oracle with.
pub fn command(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    command
}

/// `Ord`'s laws on three values: antisymmetry, transitivity, and `==` agreeing with `cmp`.
pub fn check_laws<T: Ord + std::fmt::Display>(a: &T, b: &T, c: &T) {
    for (x, y) in [(a, b), (b, c), (a, c)] {
        assert_eq!(x.cmp(y), y.cmp(x).reverse(), "antisymmetry of {x} and {y}");
        assert_eq!(
            x == y,
            x.cmp(y) == Ordering::Equal,
            "== and cmp of {x} and {y}"
        );
    }
    let mut v = [a, b, c];
    v.sort();
    assert!(
        v[0] <= v[1] && v[1] <= v[2] && v[0] <= v[2],
        "transitivity: {} <= {} <= {}",
        v[0],
        v[1],
        v[2]
    );
}

pub fn hash_of<T: Hash>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// `check_laws`, and `Hash` agreeing with `==`.
pub fn check_hashed_laws<T: Ord + Display + Hash>(a: &T, b: &T, c: &T) {
    check_laws(a, b, c);
    for (x, y) in [(a, b), (b, c), (a, c)] {
        if x == y {
            assert_eq!(hash_of(x), hash_of(y), "{x} == {y} but they hash apart");
        }
    }
}

/// Runs `test` on `cases` values of `strategy`; a failure panics with the shrunk input.
pub fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> TestCaseResult) {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    if let Err(e) = TestRunner::new(config).run(&strategy, test) {
        panic!("{e}");
    }
}

/// What `order_agrees_or_rejects` does with a pair of which `T` rejects a version.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Fails: every generated version must parse.
    Fail,
    /// Asks the oracle anyway, which must reject the pair too.
    ByBoth,
    /// Does not ask the oracle, only counts the pair.
    Skip,
}

/// Runs the oracle over batches of generated pairs, each of which `T` must parse and order as the
/// oracle does; returns how many pairs agreed.
pub fn order_agrees<T, S>(oracle: MutexGuard<'_, Oracle>, cases: u32, pairs: S) -> usize
where
    T: FromStr + Ord + Display,
    T::Err: Display,
    S: Strategy<Value = Vec<(String, String)>>,
{
    order_agrees_or_rejects::<T, S>(oracle, cases, pairs, Rejected::Fail, 0).0
}

/// Runs the oracle over batches of generated pairs, which `T` must order as the oracle does;
/// `rejected` says what happens to a pair `T` cannot parse, of which there must be fewer than one
/// per `valid_per_rejected` pairs ordered. Returns how many pairs were ordered alike and how many
/// were rejected.
pub fn order_agrees_or_rejects<T, S>(
    oracle: MutexGuard<'_, Oracle>,
    cases: u32,
    pairs: S,
    rejected: Rejected,
    valid_per_rejected: usize,
) -> (usize, usize)
where
    T: FromStr + Ord + Display,
    T::Err: Display,
    S: Strategy<Value = Vec<(String, String)>>,
{
    let oracle = RefCell::new(oracle);
    let (ordered, rejects) = (Cell::new(0), Cell::new(0));
    run(cases, pairs, |pairs| {
        let mut asked = Vec::new();
        let mut ours = Vec::new();
        for (a, b) in pairs {
            let order = match (a.parse::<T>(), b.parse::<T>()) {
                (Ok(x), Ok(y)) => Some(x.cmp(&y)),
                (Err(e), _) | (_, Err(e)) if rejected == Rejected::Fail => {
                    return Err(TestCaseError::fail(e.to_string()));
                }
                _ if rejected == Rejected::Skip => {
                    rejects.set(rejects.get() + 1);
                    continue;
                }
                _ => None,
            };
            ours.push(order);
            asked.push((a, b));
        }
        let answers = oracle.borrow_mut().compare(&asked);
        for (((a, b), ours), answer) in asked.iter().zip(ours).zip(answers) {
            prop_assert_eq!(ours, answer, "comparing {:?} with {:?}", a, b);
            let counter = if ours.is_some() { &ordered } else { &rejects };
            counter.set(counter.get() + 1);
        }
        Ok(())
    });
    let (ordered, rejected) = (ordered.get(), rejects.get());
    assert!(
        rejected == 0 || ordered > valid_per_rejected * rejected,
        "the grammar mostly makes invalid versions: {ordered} ordered, {rejected} rejected"
    );
    (ordered, rejected)
}

/// Runs the oracle over batches of generated strings; `consistent(answer, accepted)` says whether
/// the oracle's answer agrees with `T` accepting the string or not. Returns how many agreed.
pub fn parsing_agrees<T, S>(
    oracle: MutexGuard<'_, Oracle>,
    cases: u32,
    versions: S,
    consistent: impl Fn(&str, bool) -> bool,
) -> usize
where
    T: FromStr,
    S: Strategy<Value = Vec<String>>,
{
    let oracle = RefCell::new(oracle);
    let count = Cell::new(0);
    run(cases, versions, |versions| {
        let answers = oracle.borrow_mut().parses(&versions);
        for (v, answer) in versions.iter().zip(answers) {
            let accepted = v.parse::<T>().is_ok();
            prop_assert!(
                consistent(&answer, accepted),
                "{:?}: the oracle says {}, this crate {}",
                v,
                answer,
                if accepted { "accepts it" } else { "rejects it" }
            );
        }
        count.set(count.get() + versions.len());
        Ok(())
    });
    count.get()
}

/// Parses `s`: `None` when `T` rejects it, or a failure when `must_parse`.
fn parsed<T: FromStr>(s: &str, must_parse: bool) -> Result<Option<T>, TestCaseError>
where
    T::Err: Display,
{
    match s.parse::<T>() {
        Ok(v) => Ok(Some(v)),
        Err(e) if must_parse => Err(TestCaseError::fail(format!("{s:?}: {e}"))),
        Err(_) => Ok(None),
    }
}

/// Checks the laws of `Ord` on generated triples.
pub fn laws_hold<T: FromStr + Ord + Display>(strategy: BoxedStrategy<String>)
where
    T::Err: Display,
{
    let triples = (strategy.clone(), strategy.clone(), strategy);
    laws_hold_on::<T>(512, triples, false, check_laws);
}

/// Checks the laws of `Ord`, and `Hash` agreeing with `==`, on `cases` generated triples, which
/// must all parse when `must_parse`.
pub fn hashed_laws_hold<T: FromStr + Ord + Display + Hash>(
    cases: u32,
    triples: impl Strategy<Value = (String, String, String)>,
    must_parse: bool,
) where
    T::Err: Display,
{
    laws_hold_on::<T>(cases, triples, must_parse, check_hashed_laws);
}

fn laws_hold_on<T: FromStr>(
    cases: u32,
    triples: impl Strategy<Value = (String, String, String)>,
    must_parse: bool,
    check: impl Fn(&T, &T, &T),
) where
    T::Err: Display,
{
    run(cases, triples, |(a, b, c)| {
        let parse = |s: &str| parsed::<T>(s, must_parse);
        if let (Some(a), Some(b), Some(c)) = (parse(&a)?, parse(&b)?, parse(&c)?) {
            check(&a, &b, &c);
        }
        Ok(())
    });
}

/// On `cases` generated pairs of spellings of one version (which must both parse when
/// `must_parse`), `T` finds them `==` and hashes them alike.
pub fn equal_spellings_hash_alike<T: FromStr + Eq + Hash + std::fmt::Debug>(
    cases: u32,
    spellings: impl Strategy<Value = (String, String)>,
    must_parse: bool,
) where
    T::Err: Display,
{
    run(cases, spellings, |(a, b)| {
        let parse = |s: &str| parsed::<T>(s, must_parse);
        if let (Some(x), Some(y)) = (parse(&a)?, parse(&b)?) {
            prop_assert_eq!(&x, &y, "{} and {}", a, b);
            prop_assert_eq!(hash_of(&x), hash_of(&y), "{} and {}", a, b);
        }
        Ok(())
    });
}

/// `T` parses `cases` pairs of arbitrary `strings` without panicking, and orders what it parses
/// antisymmetrically.
pub fn never_panics<T: FromStr + Ord + std::fmt::Debug>(
    cases: u32,
    strings: impl Strategy<Value = String> + Clone,
) {
    run(cases, (strings.clone(), strings), |(a, b)| {
        if let (Ok(x), Ok(y)) = (a.parse::<T>(), b.parse::<T>()) {
            prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse(), "{:?} and {:?}", x, y);
        }
        Ok(())
    });
}

/// `s` with a `0` in front of every run of digits.
pub fn leading_zeros(s: &str) -> String {
    let mut out = String::new();
    let mut previous_digit = false;
    for c in s.chars() {
        if c.is_ascii_digit() && !previous_digit {
            out.push('0');
        }
        previous_digit = c.is_ascii_digit();
        out.push(c);
    }
    out
}

/// Digit runs for dpkg's and rpm's grammars: short ones with and without leading zeros, and
/// long ones.
pub fn digits() -> BoxedStrategy<String> {
    prop_oneof![
        4 => one_of(&["0", "1", "2", "9", "00", "01", "10", "007", "123"]),
        1 => "[0-9]{15,30}",
    ]
    .boxed()
}

/// `piece`s, between `n.start` and `n.end - 1` of them, concatenated.
pub fn pieces(
    piece: impl Strategy<Value = String> + 'static,
    n: std::ops::Range<usize>,
) -> BoxedStrategy<String> {
    prop::collection::vec(piece, n)
        .prop_map(|p| p.concat())
        .boxed()
}

/// A version string with one character inserted, replaced or removed: near misses of a grammar.
pub fn near_miss(
    valid: impl Strategy<Value = String>,
    alphabet: &'static str,
) -> impl Strategy<Value = String> {
    let chars: Vec<char> = alphabet.chars().collect();
    (
        valid,
        any::<prop::sample::Index>(),
        prop::sample::select(chars),
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
}

/// One of `options`, as a `String`.
pub fn one_of(options: &[&'static str]) -> impl Strategy<Value = String> + Clone + use<> {
    prop::sample::select(options.to_vec()).prop_map(String::from)
}

/// `strategy` or the empty string.
pub fn maybe(strategy: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), strategy]
}
