//! `RpmVersion` against rpm itself: proptest generates `[epoch:]version[-release]` strings
//! (digits with leading zeros and of any length, letters of both cases, `~`, `^`, separators,
//! non-ASCII characters) and rpm's `rpm.vercmp` (rpm 4.18's `rpmverCmp`, run in the Lua
//! interpreter built into `rpm`) orders them. One `rpm` process per test answers every batch.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use stowaway_versions::RpmVersion;

/// Reads `a<TAB>b` lines and answers `-1`, `0`, `1`, or `err` when rpm cannot compare them.
/// (The macro body must contain no `%` and balanced braces.)
const ORACLE: &str = r#"%{lua:
for line in io.lines() do
  local tab = string.find(line, "\t", 1, true)
  local ok, r = pcall(rpm.vercmp, string.sub(line, 1, tab - 1), string.sub(line, tab + 1))
  if not ok or r == nil then io.write("err\n")
  elseif r < 0 then io.write("-1\n")
  elseif r > 0 then io.write("1\n")
  else io.write("0\n") end
  io.flush()
end
}"#;

struct Rpm {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Rpm {
    /// `None`, after saying why, when rpm (with its Lua) is missing.
    fn start() -> Option<Rpm> {
        let works = Command::new("rpm")
            .args(["--eval", "%{lua: io.write(rpm.vercmp('1', '2'))}"])
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"-1"));
        if !works {
            println!("skipped: rpm is not installed (apt-get install rpm)");
            return None;
        }
        let mut child = Command::new("rpm")
            .args(["--eval", ORACLE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("rpm");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Some(Rpm {
            _child: child,
            stdin,
            stdout,
        })
    }

    fn compare(&mut self, pairs: &[(String, String)]) -> Vec<String> {
        for (a, b) in pairs {
            writeln!(self.stdin, "{a}\t{b}").expect("oracle's stdin");
        }
        self.stdin.flush().expect("oracle's stdin");
        pairs
            .iter()
            .map(|pair| {
                let mut line = String::new();
                let n = self.stdout.read_line(&mut line).expect("oracle's stdout");
                assert!(n > 0, "the oracle exited while comparing {pair:?}");
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

/// A piece of a version or release: segments, `~`, `^`, and separators.
fn piece() -> BoxedStrategy<String> {
    prop_oneof![
        4 => one_of(&["0", "1", "2", "9", "00", "01", "10", "007", "123"]),
        1 => "[0-9]{15,30}",
        4 => one_of(&[".", ".", "_", "+", "~", "^", "~~", "^^"]),
        1 => one_of(&["%", "{", "}", ":", "é", "..", "._"]),
        3 => one_of(&["a", "b", "z", "A", "Z", "rc", "el", "fc", "git", "alpha", "beta", "B"]),
        1 => "[a-zA-Z0-9._~^]{1,4}",
    ]
    .boxed()
}

fn pieces(n: std::ops::Range<usize>) -> BoxedStrategy<String> {
    vec(piece(), n).prop_map(|p| p.concat()).boxed()
}

fn evr() -> BoxedStrategy<String> {
    let epoch = prop_oneof![
        4 => Just(String::new()),
        2 => one_of(&["0:", "1:", "2:", "00:", "01:", "10:", ":"]),
        1 => "[0-9]{15,25}:",
    ];
    let release = prop_oneof![
        1 => Just(String::new()),
        3 => pieces(1..4).prop_map(|r| format!("-{r}")),
    ];
    (epoch, pieces(1..6), release)
        .prop_map(|(e, v, r)| format!("{e}{v}{r}"))
        .boxed()
}

/// Pairs of independent versions and of versions sharing a prefix, which compare deep inside.
fn pair() -> BoxedStrategy<(String, String)> {
    prop_oneof![
        (evr(), evr()),
        (evr(), pieces(0..3), pieces(0..3))
            .prop_map(|(p, a, b)| (format!("{p}{a}"), format!("{p}{b}"))),
    ]
    .boxed()
}

#[test]
fn order_agrees_with_rpm() {
    let Some(rpm) = Rpm::start() else {
        return;
    };
    let rpm = RefCell::new(rpm);
    let (compared, skipped) = (Cell::new(0), Cell::new(0));
    let result = runner(100).run(&vec(pair(), 50), |pairs| {
        let parsed: Vec<(&(String, String), RpmVersion, RpmVersion)> = pairs
            .iter()
            .filter_map(|pair| Some((pair, pair.0.parse().ok()?, pair.1.parse().ok()?)))
            .collect();
        skipped.set(skipped.get() + pairs.len() - parsed.len());
        let asked: Vec<(String, String)> =
            parsed.iter().map(|(pair, ..)| (*pair).clone()).collect();
        for ((pair, a, b), answer) in parsed.iter().zip(rpm.borrow_mut().compare(&asked)) {
            let ours = match a.cmp(b) {
                Ordering::Less => "-1",
                Ordering::Equal => "0",
                Ordering::Greater => "1",
            };
            prop_assert_eq!(&answer, ours, "comparing {:?} with {:?}", pair.0, pair.1);
        }
        compared.set(compared.get() + parsed.len());
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (compared, skipped) = (compared.get(), skipped.get());
    println!(
        "rpm: {compared} pairs ordered as rpm.vercmp orders them ({skipped} not versions here)"
    );
    assert!(
        compared > 5 * skipped,
        "the grammar mostly makes invalid versions"
    );
}

fn hash_of(v: &RpmVersion) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Antisymmetry, transitivity, and `==` and `Hash` agreeing with `cmp`, on generated triples.
#[test]
fn order_laws() {
    let result = runner(2000).run(&(evr(), evr(), evr()), |(a, b, c)| {
        let parsed = [&a, &b, &c].map(|s| s.parse::<RpmVersion>());
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

/// Spellings rpm considers equal (leading zeros, other separators) are `==` and hash alike.
#[test]
fn equal_spellings_hash_alike() {
    let variant = (evr(), 0..3u8).prop_map(|(v, how)| {
        let respelled = match how {
            0 => v.replace('.', "_"),
            1 => v.replace('.', ".."),
            _ => {
                // A leading zero in front of every digit run.
                let mut out = String::new();
                let mut previous_digit = false;
                for c in v.chars() {
                    if c.is_ascii_digit() && !previous_digit {
                        out.push('0');
                    }
                    previous_digit = c.is_ascii_digit();
                    out.push(c);
                }
                out
            }
        };
        (v, respelled)
    });
    let result = runner(2000).run(&variant, |(a, b)| {
        if let (Ok(x), Ok(y)) = (a.parse::<RpmVersion>(), b.parse::<RpmVersion>()) {
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
    let strings = prop_oneof![any::<String>(), "[0-9:~^_.a-zA-Zé -]{0,40}"];
    let result = runner(5000).run(&(strings.clone(), strings), |(a, b)| {
        if let (Ok(x), Ok(y)) = (a.parse::<RpmVersion>(), b.parse::<RpmVersion>()) {
            prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn numbers_of_any_length_compare_exactly() {
    let big = "9".repeat(500);
    let parse = |s: String| s.parse::<RpmVersion>().unwrap_or_else(|e| panic!("{e}"));
    assert!(parse(format!("1.{big}-1")) < parse(format!("1.1{big}-1")));
    assert!(parse(format!("{big}:1")) < parse(format!("1{big}:0")));
    assert_eq!(parse(format!("000{big}:1-1")), parse(format!("{big}:1-01")));
}
