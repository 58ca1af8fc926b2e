//! The `stowaway` binary end to end: exit codes, formats, stdin, and the one-line errors that
//! bad input gets (exit 2, no panic, nothing written anywhere).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use stowaway_imagebuilder::registry::{Registry, have_tools};
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, Members, docker_save_classic, docker_save_oci, gzip,
};

/// The analyzers every scan runs: OS detection, the unusual-place check, the catalogers, the
/// account files' checks and the secret scanner.
const CORE_AND_CATALOGERS: [&str; 16] = [
    "os-release",
    "unusual-executable",
    "dpkg",
    "apk",
    "rpm",
    "python",
    "npm",
    "go-binary",
    "rust-binary",
    "cargo-lock",
    "java",
    "ruby",
    "php",
    "dotnet",
    "accounts",
    "secrets",
];

const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";

fn example() -> Image {
    let mut base = LayerBuilder::new();
    base.file("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n")
        .file_mode("tmp/miner", ELF, 0o755)
        .file("etc/motd", b"hi");
    let mut second = LayerBuilder::new();
    second.whiteout("tmp/miner").file("srv/app.txt", b"app");
    well_configured(Image::new(
        &["example:1"],
        vec![
            Layer::new(base.build(), Compression::Gzip, "ADD base"),
            Layer::new(second.build(), Compression::Gzip, "RUN rm /tmp/miner"),
        ],
    ))
}

/// The image with a user and a health check, so that no configuration check fires on it.
fn well_configured(mut image: Image) -> Image {
    image.settings = serde_json::json!({
        "Env": ["PATH=/usr/bin:/bin"],
        "User": "app",
        "Healthcheck": {"Test": ["CMD", "/srv/app", "--health"]},
    });
    image
}

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new() -> Run {
        Run {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Runs stowaway with its own empty TMPDIR and working directory, to check nothing is
    /// written there.
    fn stowaway(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let tmp = self.dir.path().join("tmp");
        let cwd = self.dir.path().join("cwd");
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::create_dir_all(&cwd).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_stowaway"))
            .args(args)
            .env("TMPDIR", &tmp)
            .env("STOWAWAY_CACHE_DIR", self.dir.path().join("cache"))
            .current_dir(&cwd)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(bytes) = stdin {
            // The scanner may stop reading early on bad input; a broken pipe is fine then.
            let _ = child.stdin.take().unwrap().write_all(bytes);
        }
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "wrote to TMPDIR"
        );
        assert_eq!(
            std::fs::read_dir(&cwd).unwrap().count(),
            0,
            "wrote to the working directory"
        );
        output
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn exit_codes_follow_fail_on() {
    let run = Run::new();
    let archive = run.file("example.tar", &docker_save_classic(&[example()]).to_tar());
    let archive = archive.to_str().unwrap();
    // The only finding (an ELF in /tmp, removed later) is medium.
    let default = run.stowaway(&["scan", archive], None);
    assert_eq!(default.status.code(), Some(0), "{}", text(&default.stderr));
    assert!(
        text(&default.stderr).contains(
            "example:1: 1 finding (critical 0, high 0, medium 1, low 0, info 0; suspicious 1). Passed: no finding matches --fail-on high."
        ),
        "{}",
        text(&default.stderr)
    );
    let table = text(&default.stdout);
    assert!(table.contains("Image example:1"), "{table}");
    assert!(
        table.contains("layer 0: /tmp/miner (removed in layer 1)"),
        "{table}"
    );
    assert!(table.contains("3.19.1"), "{table}");
    assert!(
        !table.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );

    for fail_on in [
        "medium",
        "suspicious",
        "suspicious:medium",
        "high,suspicious",
    ] {
        let out = run.stowaway(&["scan", "--fail-on", fail_on, archive], None);
        assert_eq!(out.status.code(), Some(1), "--fail-on {fail_on}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("Blocked by --fail-on")
                && stderr.contains(": 1 finding (STW-EXEC-UNUSUAL-PLACE)."),
            "{stderr}"
        );
    }
    for fail_on in ["critical", "malware,secret,typosquat", "suspicious:high"] {
        let out = run.stowaway(&["scan", "--fail-on", fail_on, archive], None);
        assert_eq!(out.status.code(), Some(0), "--fail-on {fail_on}");
    }
    let bad = run.stowaway(&["scan", "--fail-on", "severe", archive], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("'severe' is not a severity"));
}

/// `value` without the `time_us` fields, which differ from run to run.
fn without_timings(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter(|(key, _)| key != "time_us")
            .map(|(key, value)| (key, without_timings(value)))
            .collect(),
        serde_json::Value::Array(items) => items.into_iter().map(without_timings).collect(),
        other => other,
    }
}

#[test]
fn json_report_from_a_file_and_from_stdin_agree() {
    let run = Run::new();
    let bytes = docker_save_oci(&[example()]).to_tar();
    let archive = run.file("example.tar", &bytes);
    let from_file = run.stowaway(
        &["scan", "--format", "json", archive.to_str().unwrap()],
        None,
    );
    assert_eq!(
        from_file.status.code(),
        Some(0),
        "{}",
        text(&from_file.stderr)
    );
    let from_stdin = run.stowaway(&["scan", "--format", "json", "-"], Some(&bytes));
    assert_eq!(
        from_stdin.status.code(),
        Some(0),
        "{}",
        text(&from_stdin.stderr)
    );

    let file_json: serde_json::Value = serde_json::from_slice(&from_file.stdout).unwrap();
    let stdin_json: serde_json::Value = serde_json::from_slice(&from_stdin.stdout).unwrap();
    assert_eq!(file_json["schema_version"], "6");
    assert_eq!(stdin_json["input"], "-");
    let analyzers: Vec<&str> = file_json["analyzers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        analyzers,
        [&CORE_AND_CATALOGERS[..], &["yara-x", "heuristics"]].concat()
    );
    let yara = &file_json["analyzers"][CORE_AND_CATALOGERS.len()];
    assert_eq!(yara["id"], "yara-x");
    let rules = yara["definitions"].as_str().unwrap();
    assert!(
        rules.contains(" rules from 5 files, rule set sha256:"),
        "{rules}"
    );
    // The same reports, apart from the engines' scan times.
    assert_eq!(
        without_timings(file_json["images"].clone()),
        without_timings(stdin_json["images"].clone())
    );
    let image = &file_json["images"][0];
    assert_eq!(image["os"]["id"], "alpine");
    assert_eq!(image["findings"][0]["id"], "STW-EXEC-UNUSUAL-PLACE");
    assert_eq!(
        image["findings"][0]["location"]["status"],
        serde_json::json!({"state": "removed", "layer": 1})
    );
    assert_eq!(image["layers"][1]["integrity"], "verified");
    let malware = &image["malware"];
    assert_eq!(
        malware["engines"],
        serde_json::json!(["yara-x", "heuristics"])
    );
    assert_eq!(malware["verdicts"]["infected"], 0);
    let files = malware["files"].as_array().unwrap();
    assert_eq!(malware["files_scanned"], files.len());
    assert!(
        files
            .iter()
            .all(|f| f["results"].as_array().unwrap().len() == 2)
    );

    let out_path = run.dir.path().join("report.json");
    let written = run.stowaway(
        &[
            "scan",
            "--format",
            "json",
            "-o",
            out_path.to_str().unwrap(),
            archive.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(written.status.code(), Some(0));
    assert!(written.stdout.is_empty());
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(
        without_timings(saved["images"].clone()),
        without_timings(file_json["images"].clone())
    );
}

#[test]
fn rootfs_is_one_layer_and_links_are_never_followed() {
    let run = Run::new();
    let root = run.dir.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/tmp")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    std::fs::write(root.join("var/tmp/x"), ELF).unwrap();
    std::os::unix::fs::symlink("loop-b", root.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", root.join("loop-b")).unwrap();
    std::os::unix::fs::symlink("/", root.join("escape")).unwrap();
    let out = run.stowaway(
        &[
            "scan",
            "--format",
            "json",
            "--rootfs",
            root.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let image = &json["images"][0];
    let paths: Vec<(&str, &str)> = image["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        paths,
        vec![
            ("escape", "symlink"),
            ("etc", "dir"),
            ("etc/os-release", "file"),
            ("loop-a", "symlink"),
            ("loop-b", "symlink"),
            ("var", "dir"),
            ("var/tmp", "dir"),
            ("var/tmp/x", "file"),
        ]
    );
    assert_eq!(image["os"]["id"], "debian");
    assert_eq!(image["findings"][0]["location"]["path"], "var/tmp/x");
    assert_eq!(image["layers"][0]["integrity"], "undeclared");
}

/// A tar whose member names are written as given (absolute, `..`).
fn raw_tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = LayerBuilder::new();
    for (name, data) in members {
        builder.file(name, data);
    }
    builder.build()
}

fn replace(members: &mut Members, name_suffix: &str, bytes: Vec<u8>) {
    let member = members
        .files
        .iter_mut()
        .find(|(n, _)| n.ends_with(name_suffix))
        .unwrap();
    member.1 = bytes;
}

/// Asserts a one-line error naming `path` and containing `problem`, with exit code 2.
fn assert_bad_input(run: &Run, path: &Path, problem: &str) {
    let path = path.to_str().unwrap();
    let out = run.stowaway(&["scan", path], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{path}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with(&format!("stowaway: error: {path}")),
        "names the file: {stderr}"
    );
    assert!(stderr.contains(problem), "says '{problem}': {stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_gets_a_one_line_error_and_exit_2() {
    let run = Run::new();
    let good = docker_save_classic(&[example()]);
    let good_tar = good.to_tar();

    let truncated = run.file("truncated.tar", &good_tar[..good_tar.len() / 2]);
    assert_bad_input(&run, &truncated, "truncated");

    let mut missing = good.clone();
    let layer = missing
        .files
        .iter()
        .position(|(n, _)| n.ends_with("/layer.tar"))
        .unwrap();
    missing.files.remove(layer);
    let missing = run.file("missing-blob.tar", &missing.to_tar());
    assert_bad_input(&run, &missing, "which the input does not contain");

    let not_image = run.file("notes.txt", b"just some text, not an image\n");
    assert_bad_input(&run, &not_image, "not a container image");

    let tar_without_manifest = run.file("plain.tar", &raw_tar(&[("hello.txt", b"hi")]));
    assert_bad_input(&run, &tar_without_manifest, "no manifest.json");

    let absolute = run.file("absolute.tar", &raw_tar(&[("/manifest.json", b"[]")]));
    assert_bad_input(&run, &absolute, "absolute path");

    let dotdot = run.file(
        "dotdot.tar",
        &raw_tar(&[("../../etc/cron.d/x", b"* * * * * root sh")]),
    );
    assert_bad_input(&run, &dotdot, "escapes the archive");

    let mut layer_escape = LayerBuilder::new();
    layer_escape.file("../../etc/passwd", b"x");
    let escaping = Image::new(
        &["bad:1"],
        vec![Layer::new(layer_escape.build(), Compression::None, "x")],
    );
    let escaping = run.file(
        "layer-escape.tar",
        &docker_save_classic(&[escaping]).to_tar(),
    );
    assert_bad_input(&run, &escaping, "entry '../../etc/passwd' escapes the root");

    let mut looped = good.clone();
    let layers: Vec<String> = looped
        .files
        .iter()
        .filter(|(n, _)| n.ends_with("/layer.tar"))
        .map(|(n, _)| n.clone())
        .collect();
    looped.files.retain(|(n, _)| !n.ends_with("/layer.tar"));
    let (a, b) = (
        layers[0].split('/').next().unwrap(),
        layers[1].split('/').next().unwrap(),
    );
    looped
        .symlinks
        .push((layers[0].clone(), format!("../{b}/layer.tar")));
    looped
        .symlinks
        .push((layers[1].clone(), format!("../{a}/layer.tar")));
    let looped = run.file("symlink-loop.tar", &looped.to_tar());
    assert_bad_input(&run, &looped, "symlink loop");

    let mut bomb_layer = LayerBuilder::new();
    bomb_layer.file("zeros", &vec![0u8; 48 << 20]);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&bomb_layer.build()).unwrap();
    let mut bomb = good.clone();
    replace(&mut bomb, "/layer.tar", encoder.finish().unwrap());
    let bomb = run.file("gzip-bomb.tar", &bomb.to_tar());
    assert_bad_input(&run, &bomb, "possible decompression bomb");

    let mut invalid_json = good.clone();
    replace(
        &mut invalid_json,
        "manifest.json",
        b"[{\"Config\": ".to_vec(),
    );
    let invalid_json = run.file("invalid-json.tar", &invalid_json.to_tar());
    assert_bad_input(&run, &invalid_json, "'manifest.json' is not valid");

    let mut corrupt_gzip = good.clone();
    let mut blob = gzip(b"not a tar at all, but gzip");
    blob.truncate(blob.len() - 6);
    replace(&mut corrupt_gzip, "/layer.tar", blob);
    let corrupt_gzip = run.file("corrupt-layer.tar", &corrupt_gzip.to_tar());
    assert_bad_input(&run, &corrupt_gzip, "layer 0");

    // A whole-archive gzip bomb: a member of zeros ahead of the manifest.
    let mut padded = good.clone();
    padded
        .files
        .insert(0, ("aaa-padding".to_string(), vec![0u8; 64 << 20]));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&padded.to_tar()).unwrap();
    let outer_bomb = run.file("outer-bomb.tar.gz", &encoder.finish().unwrap());
    assert_bad_input(&run, &outer_bomb, "possible decompression bomb");

    let absent = run.dir.path().join("absent.tar");
    assert_bad_input(&run, &absent, "No such file or directory (os error 2)");
    let out = run.stowaway(&["scan", absent.to_str().unwrap()], None);
    assert_eq!(
        text(&out.stderr).matches("os error 2").count(),
        1,
        "the cause once"
    );

    let empty_dir = run.dir.path().join("empty-dir");
    std::fs::create_dir_all(&empty_dir).unwrap();
    assert_bad_input(&run, &empty_dir, "use --rootfs");

    let out = run.stowaway(&["scan", "-"], Some(&good_tar[..good_tar.len() / 3]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("stowaway: error: stdin"),
        "{}",
        text(&out.stderr)
    );
}

/// Inputs the fuzzer found (`fuzz/regressions/`) stay one-line errors without control characters.
#[test]
fn fuzz_regressions_give_clean_one_line_errors() {
    let run = Run::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let out = run.stowaway(&["scan", path.to_str().unwrap()], None);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            !stderr.trim_end().chars().any(char::is_control),
            "{stderr:?}"
        );
        seen += 1;
    }
    assert!(seen >= 2);
}

#[test]
fn hash_lists_turn_known_files_into_blocking_malware_findings() {
    let run = Run::new();
    let archive = run.file("example.tar", &docker_save_classic(&[example()]).to_tar());
    let motd = stowaway_imagebuilder::sha256(b"hi");
    let list = run.file(
        "bad.txt",
        format!("{}  Test.Motd\n", &motd["sha256:".len()..]).as_bytes(),
    );
    let args = [
        "scan",
        "--format",
        "json",
        "--hashes",
        list.to_str().unwrap(),
        archive.to_str().unwrap(),
    ];
    let out = run.stowaway(&args, None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let malware: Vec<&serde_json::Value> = json["images"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "malware")
        .collect();
    assert_eq!(malware.len(), 1);
    assert_eq!(malware[0]["id"], "Test.Motd");
    assert_eq!(malware[0]["location"]["path"], "etc/motd");
    let engines = json["analyzers"].as_array().unwrap();
    let hashes = engines
        .iter()
        .find(|e| e["id"] == "hash-reputation")
        .unwrap();
    assert!(
        hashes["definitions"]
            .as_str()
            .unwrap()
            .starts_with("1 hashes from bad.txt")
    );
    let motd = json["images"][0]["malware"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "etc/motd")
        .unwrap();
    assert_eq!(motd["verdict"], "infected");
    let verdicts: Vec<(&str, &str)> = motd["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["engine"].as_str().unwrap(),
                r["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("yara-x", "clean"),
            ("heuristics", "clean"),
            ("hash-reputation", "infected")
        ]
    );

    let broken = run.file("broken.hdb", b"zz:1:x\n");
    let out = run.stowaway(
        &[
            "scan",
            "--hashes",
            broken.to_str().unwrap(),
            archive.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("broken.hdb:1: not an MD5, SHA-1 or SHA-256 hash"));
}

#[test]
fn an_unreachable_clamd_fails_closed() {
    let run = Run::new();
    let archive = run.file("example.tar", &docker_save_classic(&[example()]).to_tar());
    let socket = run.dir.path().join("no-clamd.sock");
    let clamd = format!("unix:{}", socket.display());
    let out = run.stowaway(
        &[
            "scan",
            "--format",
            "json",
            "--clamd",
            &clamd,
            archive.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let engine = json["analyzers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "clamav")
        .unwrap();
    assert!(
        engine["definitions"]
            .as_str()
            .unwrap()
            .starts_with("unreachable: clamd at unix:")
    );
    let findings = json["images"][0]["findings"].as_array().unwrap();
    let failed = findings.iter().filter(|f| f["kind"] == "engine").count();
    assert_eq!(failed, 4, "one per file: os-release, miner, motd, app.txt");
}

#[test]
fn user_rules_broken_rules_engine_switches_and_the_compiled_rules_cache() {
    let run = Run::new();
    let archive = run.file("example.tar", &docker_save_classic(&[example()]).to_tar());
    let archive = archive.to_str().unwrap();
    let rules = run.dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("app.yar"),
        "rule Local_App_Marker {\n  meta:\n    category = \"malware\"\n    severity = \"critical\"\n    description = \"the app marker\"\n  strings:\n    $a = \"app\"\n  condition:\n    $a and filepath == \"srv/app.txt\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("broken.yar"),
        "rule Broken {\n  condition:\n    nonsense\n}\n",
    )
    .unwrap();
    let rules_arg = rules.to_str().unwrap();
    let ids = |out: &Output| -> Vec<String> {
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["images"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };

    // A broken file is named with its line and skipped; the good rule still blocks.
    let out = run.stowaway(
        &["scan", "--format", "json", "--rules", rules_arg, archive],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let broken = rules.join("broken.yar").display().to_string();
    assert!(
        text(&out.stderr).contains(&format!("warning: rule skipped: {broken}:3:5: ")),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(ids(&out), ["Local_App_Marker", "STW-EXEC-UNUSUAL-PLACE"]);

    // --strict-rules: the same file is an error, exit 2, one line.
    let strict = run.stowaway(
        &["scan", "--strict-rules", "--rules", rules_arg, archive],
        None,
    );
    assert_eq!(strict.status.code(), Some(2));
    let stderr = text(&strict.stderr);
    assert!(stderr.contains(&format!("{broken}:3:5: ")), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    // Without the broken file the rule set compiles cleanly and is cached in compiled form.
    std::fs::remove_file(rules.join("broken.yar")).unwrap();
    let cache = run.dir.path().join("cache");
    let cached = || {
        std::fs::read_dir(&cache)
            .map(|d| d.filter_map(|e| e.ok()).count())
            .unwrap_or(0)
    };
    let before = cached();
    let out = run.stowaway(
        &["scan", "--format", "json", "--rules", rules_arg, archive],
        None,
    );
    assert_eq!(ids(&out), ["Local_App_Marker", "STW-EXEC-UNUSUAL-PLACE"]);
    assert_eq!(cached(), before + 1);
    let again = run.stowaway(
        &["scan", "--format", "json", "--rules", rules_arg, archive],
        None,
    );
    assert_eq!(ids(&again), ids(&out));
    assert_eq!(cached(), before + 1);

    // Engines can be turned off; the report lists only those that ran.
    let off = run.stowaway(
        &[
            "scan",
            "--format",
            "json",
            "--no-yara",
            "--no-heuristics",
            archive,
        ],
        None,
    );
    assert_eq!(off.status.code(), Some(0), "{}", text(&off.stderr));
    let json: serde_json::Value = serde_json::from_slice(&off.stdout).unwrap();
    let analyzers: Vec<&str> = json["analyzers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(analyzers, CORE_AND_CATALOGERS);
    assert!(json["images"][0].get("malware").is_none());
    let bundled_off = run.stowaway(
        &[
            "scan",
            "--format",
            "json",
            "--no-bundled-rules",
            "--rules",
            rules_arg,
            archive,
        ],
        None,
    );
    let json: serde_json::Value = serde_json::from_slice(&bundled_off.stdout).unwrap();
    let yara = json["analyzers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "yara-x")
        .unwrap();
    assert!(
        yara["definitions"]
            .as_str()
            .unwrap()
            .starts_with("1 rules from 1 files"),
        "{yara}"
    );
}

/// An image with packages of three ecosystems: Alpine's database, a Python distribution and an
/// installed npm package; a later layer removes the npm package.
fn packaged() -> Image {
    let mut base = LayerBuilder::new();
    base.file("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n")
        .file(
            "lib/apk/db/installed",
            b"P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nP:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\nP:ca-certificates-bundle\nV:20230506-r0\nA:x86_64\nL:MPL-2.0 AND MIT\no:ca-certificates\n",
        )
        .file(
            "usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\nlong description\n",
        )
        .file(
            "app/node_modules/left-pad/package.json",
            br#"{"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}"#,
        );
    let mut second = LayerBuilder::new();
    second.whiteout("app/node_modules/left-pad");
    well_configured(Image::new(
        &["packaged:1"],
        vec![
            Layer::new(base.build(), Compression::Gzip, "ADD rootfs /"),
            Layer::new(
                second.build(),
                Compression::Gzip,
                "RUN npm uninstall left-pad",
            ),
        ],
    ))
}

/// Validates an SBOM with `scripts/validate-sbom` (the official CycloneDX 1.6 and SPDX 2.3 JSON
/// schemas, and SPDX's `pyspdxtools`), whose Python packages `scripts/with-test-deps` installs; `None`
/// when they are not there (the test says it skipped that part).
fn validate(kind: &str, path: &Path) -> Option<Output> {
    if std::env::var_os("STOWAWAY_SBOM_VALIDATORS").is_none() {
        eprintln!(
            "skipped validating {kind}: set STOWAWAY_SBOM_VALIDATORS=1 (scripts/with-test-deps installs the validators)"
        );
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/validate-sbom");
    let output = Command::new("python3")
        .arg(script)
        .arg(kind)
        .arg(path)
        .output();
    Some(output.unwrap())
}

#[test]
fn sbom_formats_are_valid_and_list_what_is_installed() {
    let run = Run::new();
    let archive = run.file("packaged.tar", &docker_save_oci(&[packaged()]).to_tar());
    let archive = archive.to_str().unwrap();

    let out = run.stowaway(&["sbom", "--format", "table", archive], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("4 packages installed (apk 3, python 1), 1 removed or replaced"),
        "{table}"
    );
    assert!(table.contains("removed in layer 1"), "{table}");

    let cdx = run.dir.path().join("sbom.cdx.json");
    let out = run.stowaway(
        &[
            "sbom",
            "--format",
            "cyclonedx-json",
            "-o",
            cdx.to_str().unwrap(),
            archive,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    assert_eq!(document["specVersion"], "1.6");
    assert_eq!(document["metadata"]["component"]["type"], "container");
    let purls: Vec<&str> = document["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect();
    assert_eq!(
        purls,
        [
            "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
            "pkg:apk/alpine/ca-certificates-bundle@20230506-r0?arch=x86_64&distro=alpine-3.19.1&upstream=ca-certificates",
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1",
            "pkg:pypi/requests@2.31.0",
        ]
    );
    if let Some(check) = validate("cyclonedx", &cdx) {
        assert!(
            check.status.success(),
            "{}{}",
            text(&check.stdout),
            text(&check.stderr)
        );
    }

    // scan --sbom-out picks SPDX from the file name; the scan's own report is unchanged.
    let spdx = run.dir.path().join("sbom.spdx.json");
    let out = run.stowaway(
        &[
            "scan",
            "--format",
            "json",
            "--sbom-out",
            spdx.to_str().unwrap(),
            archive,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["images"][0]["packages"].as_array().unwrap().len(), 5);
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    assert_eq!(document["spdxVersion"], "SPDX-2.3");
    let packages = document["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 5, "the image and its 4 installed packages");
    let declared: Vec<&str> = packages
        .iter()
        .map(|p| p["licenseDeclared"].as_str().unwrap())
        .collect();
    assert_eq!(
        declared,
        [
            "NOASSERTION",
            "GPL-2.0-only",
            "MPL-2.0 AND MIT",
            "MIT",
            "LicenseRef-Apache-2.0"
        ]
    );
    if let Some(check) = validate("spdx", &spdx) {
        assert!(
            check.status.success(),
            "{}{}",
            text(&check.stdout),
            text(&check.stderr)
        );
    }

    // Several images: an SBOM document describes one, so the user is asked to pick.
    let two = run.file(
        "two.tar",
        &docker_save_oci(&[packaged(), example()]).to_tar(),
    );
    let out = run.stowaway(&["sbom", two.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("choose it with --image NAME:TAG"),
        "{}",
        text(&out.stderr)
    );
    let out = run.stowaway(
        &["sbom", "--image", "packaged:1", two.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn vulnerabilities_with_and_without_a_database() {
    let run = Run::new();
    let archive = run.file("packaged.tar", &docker_save_oci(&[packaged()]).to_tar());
    let archive = archive.to_str().unwrap();
    let db = run.dir.path().join("db");
    let db = db.to_str().unwrap();

    // No database: the scan runs, says vulnerabilities were not checked and how to get them.
    let out = run.stowaway(&["scan", "--format", "json", "--db-dir", db, archive], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("vulnerabilities were not checked"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("stowaway db import"),
        "{}",
        text(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["vulnerability_database"]["checked"], false);

    // An advisory for the image's requests 2.31.0 and one for busybox's source package.
    let records = run.dir.path().join("records");
    std::fs::create_dir_all(&records).unwrap();
    std::fs::write(
        records.join("GHSA-9wx4-h78v-vm56.json"),
        r#"{"id": "GHSA-9wx4-h78v-vm56", "modified": "2024-05-20T00:00:00Z", "aliases": ["CVE-2024-35195"],
            "summary": "Requests Session object does not verify requests after making first request with verify=False",
            "database_specific": {"severity": "MODERATE"},
            "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.32.0"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        records.join("ALPINE-CVE-2023-42366.json"),
        r#"{"id": "ALPINE-CVE-2023-42366", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2023-42366"],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"}],
            "affected": [{"package": {"ecosystem": "Alpine:v3.19", "name": "busybox"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.36.1-r16"}]}]}]}"#,
    )
    .unwrap();
    let out = run.stowaway(
        &["db", "import", "--db-dir", db, records.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("imported 2 records"),
        "{}",
        text(&out.stderr)
    );
    let out = run.stowaway(&["db", "info", "--db-dir", db], None);
    assert!(
        text(&out.stdout).contains("records         2 (0 withdrawn)"),
        "{}",
        text(&out.stdout)
    );

    let out = run.stowaway(&["scan", "--format", "json", "--db-dir", db, archive], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "medium findings do not block: {}",
        text(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["vulnerability_database"]["checked"], true);
    assert_eq!(report["vulnerability_database"]["records"], 2);
    let vulns: Vec<(String, String, String)> = report["images"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "vuln")
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["vulnerability"]["fixed_versions"][0]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        vulns,
        [
            (
                "ALPINE-CVE-2023-42366".to_string(),
                "medium".to_string(),
                "1.36.1-r16".to_string()
            ),
            (
                "GHSA-9wx4-h78v-vm56".into(),
                "medium".into(),
                "2.32.0".into()
            ),
        ]
    );
    let blocked = run.stowaway(
        &["scan", "--fail-on", "vuln", "--db-dir", db, archive],
        None,
    );
    assert_eq!(blocked.status.code(), Some(1));
    let table = text(&blocked.stdout);
    assert!(
        table.contains("vulnerability database: 2 advisories"),
        "{table}"
    );
    let skipped = run.stowaway(
        &[
            "scan",
            "--fail-on",
            "vuln",
            "--skip-vulns",
            "--db-dir",
            db,
            archive,
        ],
        None,
    );
    assert_eq!(skipped.status.code(), Some(0));
}

#[test]
fn an_image_pulled_from_a_registry_gives_the_findings_of_its_docker_save_archive() {
    if !have_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let registry = Registry::start("");
    let run = Run::new();
    let mut image = example();
    let mut third = LayerBuilder::new();
    third.file(
        "srv/.env",
        format!(
            "DEBUG=0\nGITHUB_TOKEN={}{}\n",
            "ghp_", "R8fK2mQ9vXw4LpT7nYb3HcJ6dSa1EuZ0gVx5"
        )
        .as_bytes(),
    );
    image.layers.push(Layer::new(
        third.build(),
        Compression::Gzip,
        "COPY .env /srv/ # buildkit",
    ));
    let archive = run.file("app.tar", &docker_save_classic(&[image]).to_tar());
    registry.push(
        &format!("docker-archive:{}", archive.display()),
        "shop/app:1",
        &[],
    );
    let reference = format!("{}/shop/app:1", registry.host);
    let json = |target: &str| {
        let out = run.stowaway(&["scan", "--format", "json", "-q", target], None);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["images"][0].clone()
    };
    let pulled = json(&reference);
    let local = json(archive.to_str().unwrap());
    assert_eq!(pulled["name"], reference.as_str());
    let ids: Vec<&str> = local["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"github-pat"), "{ids:?}");
    for part in [
        "findings",
        "inventory",
        "packages",
        "history",
        "config",
        "os",
    ] {
        assert_eq!(pulled[part], local[part], "{part}");
    }
    let layers = |image: &serde_json::Value| -> Vec<(String, String)> {
        image["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["diff_id"].to_string(), l["created_by"].to_string()))
            .collect()
    };
    assert_eq!(layers(&pulled), layers(&local));
    assert_eq!(layers(&local).len(), 3);
}

#[test]
fn every_format_in_one_run_with_the_policy_file_and_vex_deciding_the_exit_code() {
    let run = Run::new();
    let mut image = example();
    let mut third = LayerBuilder::new();
    third.file(
        "srv/.env",
        format!(
            "GITHUB_TOKEN={}{}\n",
            "ghp_", "R8fK2mQ9vXw4LpT7nYb3HcJ6dSa1EuZ0gVx5"
        )
        .as_bytes(),
    );
    image.layers.push(Layer::new(
        third.build(),
        Compression::Gzip,
        "COPY .env /srv/",
    ));
    let archive = run.file("app.tar", &docker_save_classic(&[image]).to_tar());
    let archive = archive.to_str().unwrap();
    let out_dir = run.dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let file = |name: &str| out_dir.join(name).display().to_string();
    let formats = format!(
        "table,json={},sarif={},junit={},html={},cyclonedx={},gitlab={}",
        file("r.json"),
        file("r.sarif"),
        file("r.junit.xml"),
        file("r.html"),
        file("r.cdx.json"),
        file("r.gl.json")
    );
    let all = run.stowaway(&["scan", "--format", &formats, archive], None);
    assert_eq!(all.status.code(), Some(1), "{}", text(&all.stderr));
    assert!(
        text(&all.stdout).contains("github-pat"),
        "{}",
        text(&all.stdout)
    );
    for name in ["r.json", "r.sarif", "r.cdx.json", "r.gl.json"] {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out_dir.join(name)).unwrap()).unwrap();
        assert!(json.is_object(), "{name}");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("r.json")).unwrap()).unwrap();
    assert_eq!(report["policy"]["blocked"], true);
    assert!(
        std::fs::read_to_string(out_dir.join("r.junit.xml"))
            .unwrap()
            .contains("<failure")
    );
    assert!(
        std::fs::read_to_string(out_dir.join("r.html"))
            .unwrap()
            .contains("github-pat")
    );
    // The summary is the same whatever the format.
    let json_only = run.stowaway(&["scan", "--format", "json", archive], None);
    assert_eq!(json_only.status.code(), Some(1));
    assert_eq!(text(&json_only.stderr), text(&all.stderr));

    // A policy file's ignore rule lets the secret through; once expired it no longer does.
    for (expires, code) in [("2999-01-01", 0), ("2001-01-01", 1)] {
        let policy = run.file(
            "stowaway.yaml",
            format!(
                "ignore:\n  - id: github-pat\n    path: \"srv/**\"\n    reason: a revoked token kept for the demo\n    expires: {expires}\n"
            )
            .as_bytes(),
        );
        let out = run.stowaway(
            &[
                "scan",
                "--format",
                "json",
                "--config",
                policy.to_str().unwrap(),
                archive,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let suppressed = report["images"][0]["suppressed"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(suppressed, usize::from(code == 0));
        if code == 1 {
            assert!(
                text(&out.stderr).contains("expired on 2001-01-01"),
                "{}",
                text(&out.stderr)
            );
        }
    }

    // Errors before the scan: two formats for stdout, a policy file without a reason.
    let two = run.stowaway(&["scan", "--format", "table,json", archive], None);
    assert_eq!(two.status.code(), Some(2));
    assert!(
        text(&two.stderr).contains("only one can go to stdout"),
        "{}",
        text(&two.stderr)
    );
    let bad = run.file("bad.yaml", b"ignore:\n  - id: github-pat\n");
    let out = run.stowaway(&["scan", "--config", bad.to_str().unwrap(), archive], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("reason"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_creates_api_keys_that_are_stored_only_hashed() {
    let run = Run::new();
    let data = run.dir.path().join("service");
    let data_arg = data.to_str().unwrap();
    let out = run.stowaway(
        &["serve", "--data-dir", data_arg, "--create-key", "jenkins"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let key = text(&out.stdout).trim().to_string();
    assert_eq!(key.len(), 64, "{key}");
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    let database = std::fs::read(data.join("stowaway.sqlite")).unwrap();
    assert!(
        !database.windows(key.len()).any(|w| w == key.as_bytes()),
        "the key itself is in the database"
    );
}
