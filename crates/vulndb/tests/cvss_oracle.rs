//! CVSS scores against Red Hat's Python `cvss` (`fixtures/cvss_oracle.py`), an independent
//! implementation: every CVSS v3 and v4 vector in the shared OSV data, every one of the 5,184
//! CVSS v3.0 and v3.1 base vectors, and v4.0 vectors generated at random (the base metrics, a
//! quarter of them with a threat metric as some advisories write). Skipped, saying so, without
//! the Python library (`pip install cvss`, which `scripts/with-test-deps` does).

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use stowaway_vulndb::cvss;

/// Whether Python's `cvss`, with CVSS 4.0 (3.0 or later), is there.
fn oracle_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "from cvss import CVSS3, CVSS4"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        common::skipped(
            "Python's cvss (Red Hat's CVSS library, 3.0 or later) is not installed \
             (pip install cvss; scripts/with-test-deps installs it)",
        );
    }
    found
}

/// The oracle's answer for each vector: a score with one decimal, or `invalid`.
fn oracle(vectors: &[String]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cvss_oracle.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = vectors.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    writer.join().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "cvss_oracle.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<String> = stdout.lines().map(str::to_string).collect();
    assert_eq!(answers.len(), vectors.len());
    answers
}

/// The CVSS vectors in the `severity` lists (the record's and each affected package's) of every
/// record in a zip.
fn vectors_in(zip: &Path, into: &mut BTreeSet<String>) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    for index in 0..archive.len() {
        let mut text = String::new();
        archive
            .by_index(index)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        let affected = record["affected"].as_array().into_iter().flatten();
        let lists = std::iter::once(&record["severity"]).chain(affected.map(|a| &a["severity"]));
        for severity in lists.filter_map(|list| list.as_array()).flatten() {
            let cvss = matches!(severity["type"].as_str(), Some("CVSS_V3" | "CVSS_V4"));
            if let Some(score) = severity["score"].as_str().filter(|_| cvss) {
                into.insert(score.to_string());
            }
        }
    }
}

/// SplitMix64: a fixed sequence, so a failure reproduces.
struct Random(u64);

impl Random {
    fn pick<'a>(&mut self, values: &[&'a str]) -> &'a str {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        values[(z % values.len() as u64) as usize]
    }
}

/// `count` random CVSS v4.0 vectors: every base metric, in the specification's order, and for a
/// quarter of them exploit maturity.
fn random_v4(count: usize) -> Vec<String> {
    const HLN: &[&str] = &["H", "L", "N"];
    let metrics: &[(&str, &[&str])] = &[
        ("AV", &["N", "A", "L", "P"]),
        ("AC", &["L", "H"]),
        ("AT", &["N", "P"]),
        ("PR", &["N", "L", "H"]),
        ("UI", &["N", "P", "A"]),
        ("VC", HLN),
        ("VI", HLN),
        ("VA", HLN),
        ("SC", HLN),
        ("SI", HLN),
        ("SA", HLN),
    ];
    let mut random = Random(0x5700_a3a7);
    (0..count)
        .map(|_| {
            let mut vector = "CVSS:4.0".to_string();
            for (metric, values) in metrics {
                vector += &format!("/{metric}:{}", random.pick(values));
            }
            if random.pick(&["", "", "", "E"]) == "E" {
                vector += &format!("/E:{}", random.pick(&["X", "A", "P", "U"]));
            }
            vector
        })
        .collect()
}

/// Every CVSS v3.0 and v3.1 base vector.
fn all_v3() -> Vec<String> {
    let mut vectors = vec![String::new()];
    for (metric, values) in [
        ("CVSS", &["3.0", "3.1"][..]),
        ("AV", &["N", "A", "L", "P"]),
        ("AC", &["L", "H"]),
        ("PR", &["N", "L", "H"]),
        ("UI", &["N", "R"]),
        ("S", &["U", "C"]),
        ("C", &["H", "L", "N"]),
        ("I", &["H", "L", "N"]),
        ("A", &["H", "L", "N"]),
    ] {
        vectors = vectors
            .iter()
            .flat_map(|prefix| {
                values.iter().map(move |value| match prefix.as_str() {
                    "" => format!("{metric}:{value}"),
                    _ => format!("{prefix}/{metric}:{value}"),
                })
            })
            .collect();
    }
    vectors
}

#[test]
fn scores_equal_red_hats_cvss() {
    if !oracle_available() {
        return;
    }
    let mut in_data = BTreeSet::new();
    for ecosystem in ["PyPI", "Go", "Rust"] {
        if let Some(zip) = common::shared(ecosystem) {
            vectors_in(&zip, &mut in_data);
        }
    }
    let data_v3 = in_data.iter().filter(|v| v.starts_with("CVSS:3")).count();
    let data_v4 = in_data.iter().filter(|v| v.starts_with("CVSS:4")).count();
    if !in_data.is_empty() {
        // The shared data's RUSTSEC and PYSEC records hold 125 distinct v3 vectors and 39 v4.
        assert!(
            data_v3 >= 100 && data_v4 >= 30,
            "{data_v3} v3, {data_v4} v4"
        );
    }
    let generated_v4 = random_v4(2000);
    let v3 = all_v3();
    assert_eq!(v3.len(), 5184);
    let vectors: Vec<String> = in_data
        .iter()
        .cloned()
        .chain(generated_v4)
        .chain(v3)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let expected = oracle(&vectors);
    let mut differences = Vec::new();
    for (vector, expected) in vectors.iter().zip(&expected) {
        let ours = cvss::score(vector)
            .map_or("invalid".to_string(), |score| format!("{:.1}", score.value));
        if ours != *expected {
            differences.push(format!("{vector}: ours {ours}, Red Hat's {expected}"));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} differ:\n{}",
        differences.len(),
        vectors.len(),
        differences.join("\n")
    );
    // Every vector was scored: the comparison is not of two `invalid`s.
    assert!(expected.iter().all(|answer| answer != "invalid"));
    println!(
        "{} vectors scored as Red Hat's cvss scores them ({data_v3} v3 and {data_v4} v4 from the \
         shared data)",
        vectors.len()
    );
}
