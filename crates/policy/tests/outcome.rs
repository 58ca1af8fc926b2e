//! What the outcome says: the one-paragraph summary, the reasons recorded with suppressed
//! findings, where the policy file is found, and a VEX document as `vexctl` writes it.

mod common;

use std::path::{Path, PathBuf};

use stowaway_findings::{Finding, Kind, Report, Severity};
use stowaway_policy::{CliSettings, Date, Policy};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/example.openvex.json")
}

fn today() -> Date {
    Date::new(2026, 6, 15).unwrap()
}

fn fail_on(list: &str) -> CliSettings {
    CliSettings {
        fail_on: Some(list.into()),
        ..CliSettings::default()
    }
}

fn write_policy(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("stowaway.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_vexctl_document_suppresses_with_its_justification() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy::load(None, &CliSettings::default(), &[fixture()], dir.path()).unwrap();
    let mut report = common::report();
    let outcome = policy.apply(&mut report, today());
    let image = &report.images[0];
    assert_eq!(image.suppressed.len(), 1);
    let suppressed = &image.suppressed[0];
    assert_eq!(suppressed.finding.id, "CVE-2023-4911");
    assert_eq!(suppressed.by, "vex");
    assert_eq!(
        suppressed.reason,
        format!(
            "not_affected (vulnerable_code_not_in_execute_path): No setuid binaries in the image: \
             GLIBC_TUNABLES cannot cross a privilege boundary — {}",
            fixture().display()
        )
    );
    assert_eq!(image.counts.critical, 1);
    assert_eq!(outcome.blocking, 4);
}

#[test]
fn the_summary_is_one_paragraph_per_image() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_policy(
        dir.path(),
        "ignore:\n  - path: usr/share/doc/**\n    reason: documentation samples\n",
    );
    let policy = Policy::load(
        Some(&file),
        &CliSettings::default(),
        &[fixture()],
        dir.path(),
    )
    .unwrap();
    let mut report = common::report();
    let outcome = policy.apply(&mut report, today());
    assert_eq!(
        outcome.summary,
        "example:1: 5 findings (critical 1, high 3, medium 1, low 0, info 0; malware 1, vuln 1, \
         secret 1, config 1, engine 1); 2 suppressed (1 by ignore rules, 1 by VEX). Blocked by \
         --fail-on high: 4 findings (EICAR-Test-File, PYSEC-2024-1, aws-access-key-id, \
         STW-ENGINE-FAILED)."
    );
    assert_eq!(outcome.fail_on, "high");
    assert!(outcome.engine_failures_block);
    let ignored = &report.images[0].suppressed[1];
    assert_eq!(
        (
            ignored.finding.id.as_str(),
            ignored.by.as_str(),
            ignored.reason.as_str()
        ),
        ("generic-password", "ignore", "documentation samples")
    );
}

#[test]
fn a_pass_and_an_engine_only_block_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = common::report();
    let cli = CliSettings {
        allow_engine_failure: true,
        ..fail_on("pua")
    };
    let outcome = Policy::load(None, &cli, &[], dir.path())
        .unwrap()
        .apply(&mut report, today());
    assert!(!outcome.blocked);
    assert!(
        outcome
            .summary
            .ends_with("). Passed: no finding matches --fail-on pua."),
        "{}",
        outcome.summary
    );

    let mut report = common::report();
    let cli = CliSettings {
        ignore_unfixed: true,
        ..fail_on("malware:critical,vuln:critical")
    };
    let file = write_policy(
        dir.path(),
        "ignore:\n  - layer: 1\n    id: EICAR-Test-File\n    reason: test file\n",
    );
    let outcome = Policy::load(Some(&file), &cli, &[], dir.path())
        .unwrap()
        .apply(&mut report, today());
    assert!(
        outcome.summary.ends_with(
            "2 suppressed (1 by ignore rules, 1 by --ignore-unfixed). Blocked by --fail-on \
             malware:critical,vuln:critical and fail-closed engine failures: 1 finding \
             (STW-ENGINE-FAILED)."
        ),
        "{}",
        outcome.summary
    );
}

#[test]
fn many_blocking_ids_are_cut_short_and_images_are_joined() {
    let mut report = common::report();
    let mut second = report.images[0].clone();
    second.name = "other:2".into();
    let template = second.findings[0].clone();
    second.findings = (0..13)
        .map(|i| Finding {
            id: format!("RULE-{i:02}"),
            ..template.clone()
        })
        .chain(std::iter::once(Finding {
            // A second finding of the same rule is counted, its id listed once.
            id: "RULE-00".into(),
            ..template.clone()
        }))
        .collect();
    let mut empty = second.clone();
    empty.name = "empty:3".into();
    empty.findings.clear();
    report.images.push(second);
    report.images.push(empty);
    let dir = tempfile::tempdir().unwrap();
    let outcome = Policy::load(None, &fail_on("malware"), &[], dir.path())
        .unwrap()
        .apply(&mut report, today());
    assert_eq!(outcome.blocking, 2 + 14);
    assert!(
        !outcome.summary.contains('\n'),
        "one paragraph: {}",
        outcome.summary
    );
    assert!(
        outcome.summary.contains(
            "). Blocked by --fail-on malware and fail-closed engine failures: 2 findings \
             (EICAR-Test-File, STW-ENGINE-FAILED). other:2: 14 findings (critical 14, high 0, \
             medium 0, low 0, info 0; malware 14). Blocked by --fail-on malware: 14 findings \
             (RULE-00, RULE-01, RULE-02, RULE-03, RULE-04, RULE-05, RULE-06, RULE-07, RULE-08, \
             RULE-09 and 3 more). empty:3: 0 findings. Passed: no finding matches --fail-on \
             malware."
        ),
        "{}",
        outcome.summary
    );
}

#[test]
fn stowaway_yaml_in_the_working_directory_is_read_and_its_vex_paths_are_its_own() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("vex")).unwrap();
    std::fs::copy(fixture(), dir.path().join("vex/app.openvex.json")).unwrap();
    write_policy(
        dir.path(),
        "fail-on: vuln:critical\nvex: [vex/app.openvex.json]\nallow-engine-failure: true\n",
    );
    // From another directory, by an explicit path: `vex:` is still relative to the file.
    let elsewhere = tempfile::tempdir().unwrap();
    let explicit = dir.path().join("stowaway.yaml");
    for (file, cwd) in [
        (None, dir.path()),
        (Some(explicit.as_path()), elsewhere.path()),
    ] {
        let mut report = common::report();
        let outcome = Policy::load(file, &CliSettings::default(), &[], cwd)
            .unwrap()
            .apply(&mut report, today());
        assert_eq!(outcome.fail_on, "vuln:critical");
        assert!(!outcome.engine_failures_block);
        assert!(!outcome.blocked, "{}", outcome.summary);
        let suppressed = &report.images[0].suppressed;
        assert_eq!(suppressed.len(), 1);
        let shown = if file.is_none() {
            " — vex/app.openvex.json"
        } else {
            "app.openvex.json"
        };
        assert!(
            suppressed[0].reason.ends_with(shown),
            "{}",
            suppressed[0].reason
        );
    }
    // Without the file, the defaults: --fail-on high, fail closed.
    let mut report = common::report();
    let outcome = Policy::load(None, &CliSettings::default(), &[], elsewhere.path())
        .unwrap()
        .apply(&mut report, today());
    assert_eq!((outcome.fail_on.as_str(), outcome.blocking), ("high", 5));
    assert!(outcome.engine_failures_block);
}

#[test]
fn applying_twice_changes_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy::load(
        None,
        &CliSettings {
            ignore_unfixed: true,
            ..CliSettings::default()
        },
        &[],
        dir.path(),
    )
    .unwrap();
    let mut report: Report = common::report();
    let first = policy.apply(&mut report, today());
    let again = policy.apply(&mut report, today());
    assert_eq!(first, again);
    assert_eq!(report.images[0].suppressed.len(), 1);
    assert!(
        report.images[0]
            .findings
            .iter()
            .all(|f| f.kind != Kind::Vuln || f.severity != Severity::Critical)
    );
}
