//! The ready-to-copy pipeline steps in `integrations/` (Jenkins, GitHub Actions, GitLab CI),
//! checked as far as they can be without those CI systems:
//!
//! - the Groovy (the Jenkinsfile and the shared-library steps) parses, by Debian's `groovy`
//!   (a deliberately broken copy must not), and the shared-library step, run with Jenkins'
//!   steps stubbed, runs the commands it should and ends as its exit code says;
//! - the YAML has the shape its CI system needs (a composite action, a workflow that uses only
//!   the action's inputs, a GitLab job declaring its container-scanning and JUnit reports);
//! - every `stowaway` command line in every file (and the ones the shared-library step runs)
//!   uses only flags the binary's `--help` lists, and formats its `--format` lists.
//!
//! Groovy missing: the Groovy checks say they are skipped, unless `STOWAWAY_SHARED_DIR` is set
//! (scripts/with-test-deps sets it, and installs `groovy`), where they fail instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml_ng::Value;

fn integrations() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../integrations")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `integrations/`, sorted.
fn files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&integrations(), &mut out);
    out.sort();
    out
}

fn name(path: &Path) -> String {
    path.strip_prefix(integrations())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn groovy_files() -> Vec<PathBuf> {
    files()
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "groovy")
                || p.file_name().is_some_and(|n| n == "Jenkinsfile")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Groovy

/// `groovy`, ready to run: Debian's launcher defaults JAVA_HOME to /usr/lib/jvm/default-java,
/// which only default-jre installs; without it, the JDK of the `java` on PATH. `None` (the test
/// says it skipped) when there is no groovy, unless `STOWAWAY_SHARED_DIR` says CI insists.
fn groovy() -> Option<Command> {
    let on_path = |program: &str| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    };
    let Some(groovy) = on_path("groovy") else {
        assert!(
            std::env::var_os("STOWAWAY_SHARED_DIR").is_none(),
            "STOWAWAY_SHARED_DIR is set but groovy is not installed (apt-get install groovy; scripts/with-test-deps does)"
        );
        eprintln!(
            "skipped: groovy is not installed (apt-get install groovy): the Groovy in integrations/ is not parsed"
        );
        return None;
    };
    let mut command = Command::new(groovy);
    if std::env::var_os("JAVA_HOME").is_none()
        && !Path::new("/usr/lib/jvm/default-java/bin/java").exists()
    {
        let java = on_path("java")
            .expect("groovy needs java: no JAVA_HOME, no default-java, no java on PATH");
        let java = std::fs::canonicalize(&java).unwrap();
        // <home>/bin/java
        command.env("JAVA_HOME", java.parent().and_then(Path::parent).unwrap());
    }
    Some(command)
}

/// Parses (compiles, without running) a Groovy file as Jenkins would load it.
const PARSE: &str = "new GroovyShell().parse(new File(args[0]))";

fn parse_groovy(groovy: &mut Command, file: &Path) -> std::process::Output {
    groovy
        .args(["-e", PARSE])
        .arg(file)
        .output()
        .expect("run groovy")
}

#[test]
fn groovy_parses_and_a_broken_copy_does_not() {
    let Some(_) = groovy() else { return };
    let groovies = groovy_files();
    let names: Vec<String> = groovies.iter().map(|p| name(p)).collect();
    assert!(
        names.contains(&"jenkins/Jenkinsfile".to_string())
            && names.contains(&"jenkins/vars/stowawayScan.groovy".to_string()),
        "{names:?}"
    );
    for file in &groovies {
        let out = parse_groovy(&mut groovy().unwrap(), file);
        assert!(
            out.status.success(),
            "{} does not parse:\n{}{}",
            name(file),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Each shared-library step has its help page, as Jenkins shows them.
        if file.parent().is_some_and(|d| d.ends_with("vars")) {
            let help = file.with_extension("txt");
            assert!(help.is_file(), "{} has no {}", name(file), name(&help));
            let stem = file.file_stem().unwrap().to_str().unwrap();
            assert!(
                read(&help).contains(stem),
                "{} does not name {stem}",
                name(&help)
            );
        }
    }

    // The same check fails on broken Groovy: one closing brace too few, and an unclosed call.
    let dir = tempfile::tempdir().unwrap();
    let jenkinsfile = read(&integrations().join("jenkins/Jenkinsfile"));
    let step = read(&integrations().join("jenkins/vars/stowawayScan.groovy"));
    let broken = [
        (
            "Jenkinsfile",
            jenkinsfile[..jenkinsfile.rfind('}').unwrap()].to_string(),
        ),
        (
            "stowawayScan.groovy",
            step.replacen("junit(testResults:", "junit(testResults: (", 1),
        ),
    ];
    for (file, text) in broken {
        assert_ne!(
            &text,
            if file == "Jenkinsfile" {
                &jenkinsfile
            } else {
                &step
            },
            "{file} was not broken"
        );
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        let out = parse_groovy(&mut groovy().unwrap(), &path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "a broken {file} parsed: {stderr}");
        assert!(stderr.contains("startup failed"), "{file}: {stderr}");
    }
}

/// Runs `vars/stowawayScan.groovy` with Jenkins' steps stubbed (sh answers with the exit code the
/// scenario gives `stowaway scan` and `stowaway db update`), printing what each scenario did as
/// JSON: every step called, then `return` or the `error` that ended it.
const HARNESS: &str = r#"
import groovy.json.JsonOutput

class StepError extends RuntimeException { StepError(String m) { super(m) } }

def stepFile = new File(args[0])
def run = { Map params, int scan, int db, List files ->
    def calls = []
    def binding = new Binding()
    binding.setVariable('env', [BUILD_NUMBER: '7'])
    binding.setVariable('sh', { Map a ->
        calls << [step: 'sh', label: a.label, script: a.script]
        int status = a.script.contains('stowaway scan') ? scan : (a.script.contains('stowaway db update') ? db : 0)
        if (a.returnStatus) { return status }
        if (status != 0) { throw new StepError("script returned exit code ${status}") }
        return null
    })
    binding.setVariable('fileExists', { p -> files.contains(p.toString()) || p.toString().endsWith('stowaway-stderr.txt') })
    binding.setVariable('readFile', { p -> 'stowaway: 3 findings, 1 blocks (malware)\n' })
    binding.setVariable('echo', { m -> calls << [step: 'echo', message: m] })
    binding.setVariable('error', { m -> calls << [step: 'error', message: m.toString()]; throw new StepError(m.toString()) })
    binding.setVariable('unstable', { m -> calls << [step: 'unstable', message: m] })
    binding.setVariable('catchError', { Map a, Closure body ->
        try { body() } catch (StepError e) { calls << [step: 'catchError', message: a.message, caught: e.message] }
    })
    binding.setVariable('usernamePassword', { Map a -> a })
    binding.setVariable('withCredentials', { List bindings, Closure body ->
        calls << [step: 'withCredentials', bindings: bindings]; body()
    })
    binding.setVariable('sarif', { Map a -> a })
    ['junit', 'publishHTML', 'recordIssues', 'archiveArtifacts'].each { String s ->
        binding.setVariable(s, { Map a -> calls << [step: s, args: a] })
    }
    def script = new GroovyShell(binding).parse(stepFile)
    try {
        calls << [step: 'return', value: script.call(params)]
    } catch (StepError e) {
        calls << [step: 'thrown', message: e.message]
    }
    return calls
}

def scenarios = [:]
scenarios.docker = run([image: 'app:1', failOn: 'malware,secret,vuln:critical'], 0, 0, [])
scenarios.fileBlocked = run([image: 'image.tar'], 1, 0, ['image.tar'])
scenarios.registryUnstable = run([image: 'ns/app:1', server: 'registry.example.com:5000', credentialsId: 'reader',
    insecure: true, platform: 'linux/arm64', config: 'policy.yaml', vex: ['a.vex.json', "it's.json"],
    ignoreUnfixed: true, allowEngineFailure: true, clamd: 'tcp:clamd:3310', dbDir: '/srv/db',
    dbMirror: 'http://osv.internal', onBlock: 'unstable'], 1, 2, [])
scenarios.returnOnly = run([image: 'app:1', onBlock: 'return', skipVulns: true, publish: false], 1, 0, [])
scenarios.error = run([image: 'app:1'], 2, 0, [])
scenarios.typo = run([image: 'app:1', failon: 'high'], 0, 0, [])
println JsonOutput.toJson(scenarios)
"#;

type Calls = Vec<serde_json::Value>;

/// The shared-library step's scenarios (see HARNESS), or `None` without groovy.
fn shared_library_scenarios() -> Option<BTreeMap<String, Calls>> {
    let mut groovy = groovy()?;
    let dir = tempfile::tempdir().unwrap();
    let harness = dir.path().join("harness.groovy");
    std::fs::write(&harness, HARNESS).unwrap();
    let out = groovy
        .arg(&harness)
        .arg(integrations().join("jenkins/vars/stowawayScan.groovy"))
        .output()
        .expect("run groovy");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the harness failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}")))
}

fn steps(calls: &Calls, step: &str) -> Vec<serde_json::Value> {
    calls
        .iter()
        .filter(|c| c["step"] == step)
        .cloned()
        .collect()
}

fn scripts(calls: &Calls) -> Vec<String> {
    steps(calls, "sh")
        .iter()
        .map(|c| c["script"].as_str().unwrap().to_string())
        .collect()
}

fn script_with(calls: &Calls, needle: &str) -> String {
    scripts(calls)
        .into_iter()
        .find(|s| s.contains(needle))
        .unwrap_or_else(|| panic!("no sh step runs {needle}: {calls:#?}"))
}

#[test]
fn the_shared_library_step_runs_stowaway_and_ends_by_its_exit_code() {
    let Some(scenarios) = shared_library_scenarios() else {
        return;
    };

    // An image name that is no file: docker save, db update, scan, publish, return 0.
    let docker = &scenarios["docker"];
    let order: Vec<&str> = docker.iter().map(|c| c["step"].as_str().unwrap()).collect();
    assert_eq!(
        order
            .iter()
            .filter(|s| **s != "echo")
            .copied()
            .collect::<Vec<_>>(),
        [
            "sh",
            "sh",
            "sh",
            "sh",
            "junit",
            "publishHTML",
            "recordIssues",
            "archiveArtifacts",
            "return"
        ],
        "{docker:#?}"
    );
    let scripts_run = scripts(docker);
    assert_eq!(
        scripts_run[0],
        "mkdir -p 'stowaway-reports/app-1' && docker save 'app:1' -o 'stowaway-reports/app-1/image.tar'"
    );
    assert_eq!(scripts_run[1].trim(), "stowaway db update");
    assert_eq!(
        scripts_run[2],
        "mkdir -p 'stowaway-reports/app-1'\nstowaway scan 'stowaway-reports/app-1/image.tar' --format \
         'table,junit=stowaway-reports/app-1/stowaway-junit.xml,html=stowaway-reports/app-1/stowaway-report.html,\
         sarif=stowaway-reports/app-1/stowaway.sarif,json=stowaway-reports/app-1/stowaway.json' \
         --fail-on 'malware,secret,vuln:critical' 2> 'stowaway-reports/app-1/stowaway-stderr.txt'"
    );
    assert_eq!(scripts_run[3], "rm -f 'stowaway-reports/app-1/image.tar'");
    assert_eq!(docker.last().unwrap()["value"], 0);
    // What the step publishes is what stowaway wrote.
    let junit = &steps(docker, "junit")[0]["args"];
    assert_eq!(
        junit["testResults"],
        "stowaway-reports/app-1/stowaway-junit.xml"
    );
    assert_eq!(junit["skipMarkingBuildUnstable"], true);
    let html = &steps(docker, "publishHTML")[0]["args"]["target"];
    assert_eq!(
        (&html["reportDir"], &html["reportFiles"]),
        (
            &"stowaway-reports/app-1".into(),
            &"stowaway-report.html".into()
        )
    );
    let issues = &steps(docker, "recordIssues")[0]["args"]["tools"][0];
    assert_eq!(issues["pattern"], "stowaway-reports/app-1/stowaway.sarif");

    // A file in the workspace is scanned as it is; blocked: published, then the build fails
    // with stowaway's summary.
    let blocked = &scenarios["fileBlocked"];
    assert!(
        !scripts(blocked).iter().any(|s| s.contains("docker save")),
        "{blocked:#?}"
    );
    assert!(script_with(blocked, "stowaway scan").contains("stowaway scan 'image.tar' --format "));
    assert_eq!(steps(blocked, "junit").len(), 1);
    let thrown = blocked.last().unwrap();
    assert_eq!(thrown["step"], "thrown", "{blocked:#?}");
    let message = thrown["message"].as_str().unwrap();
    assert!(
        message.starts_with("Stowaway blocked image.tar:")
            && message.contains("1 blocks (malware)"),
        "{message}"
    );

    // From a registry with credentials and every option; a failed db update is caught; a block
    // marks the build unstable and returns 1.
    let registry = &scenarios["registryUnstable"];
    assert!(!scripts(registry).iter().any(|s| s.contains("docker save")));
    assert_eq!(
        script_with(registry, "db update").trim(),
        "stowaway db update --db-dir '/srv/db' --mirror 'http://osv.internal'"
    );
    assert_eq!(steps(registry, "catchError").len(), 1, "{registry:#?}");
    let scan = script_with(registry, "stowaway scan");
    for expected in [
        "stowaway scan 'registry.example.com:5000/ns/app:1' --format ",
        " --db-dir '/srv/db'",
        " --config 'policy.yaml'",
        " --vex 'a.vex.json' --vex 'it'\\''s.json'",
        " --ignore-unfixed --allow-engine-failure --clamd 'tcp:clamd:3310' --platform 'linux/arm64'",
        " --insecure-registry 'registry.example.com:5000'",
        " --registry-username \"$STOWAWAY_REGISTRY_USERNAME\"",
    ] {
        assert!(scan.contains(expected), "{expected:?} not in {scan}");
    }
    assert!(
        !scan.contains("PASSWORD"),
        "the password is on the command line: {scan}"
    );
    let credentials = &steps(registry, "withCredentials")[0]["bindings"][0];
    assert_eq!(credentials["credentialsId"], "reader");
    assert_eq!(
        credentials["passwordVariable"],
        "STOWAWAY_REGISTRY_PASSWORD"
    );
    assert_eq!(steps(registry, "unstable").len(), 1);
    assert_eq!(registry.last().unwrap()["value"], 1);

    // onBlock 'return': 1, nothing published, no db update with skipVulns.
    let returned = &scenarios["returnOnly"];
    assert_eq!(returned.last().unwrap()["value"], 1, "{returned:#?}");
    assert!(steps(returned, "junit").is_empty() && steps(returned, "unstable").is_empty());
    assert!(!scripts(returned).iter().any(|s| s.contains("db update")));
    assert!(script_with(returned, "stowaway scan").contains(" --skip-vulns"));

    // Exit 2 always fails the build; so does a misspelt parameter.
    let error = scenarios["error"].last().unwrap();
    assert_eq!(error["step"], "thrown");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("could not scan app:1 (exit 2)"),
        "{error}"
    );
    let typo = scenarios["typo"].last().unwrap();
    assert!(
        typo["message"]
            .as_str()
            .unwrap()
            .contains("unknown parameter 'failon'"),
        "{typo}"
    );
    assert!(scripts(&scenarios["typo"]).is_empty());
}

// ---------------------------------------------------------------------------------------------
// YAML

fn yaml(path: &str) -> Value {
    let path = integrations().join(path);
    serde_yaml_ng::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_of<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

/// The names `${{ <prefix>.NAME }}` expressions use in `text`.
fn expression_names(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for expression in text.split("${{").skip(1) {
        let expression = expression.split("}}").next().unwrap();
        for (i, _) in expression.match_indices(prefix) {
            let boundary = i == 0
                || !expression[..i]
                    .ends_with(|c: char| c.is_alphanumeric() || c == '.' || c == '_');
            if boundary {
                let rest = &expression[i + prefix.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                names.insert(name);
            }
        }
    }
    names
}

#[test]
fn the_github_action_is_a_composite_action_that_uploads_sarif_and_gates() {
    let action = yaml("github/action.yml");
    let text = read(&integrations().join("github/action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_mapping().expect("inputs");
    let input_names: BTreeSet<String> = inputs
        .keys()
        .map(|k| str_of(k, "input").to_string())
        .collect();
    for input in ["image", "fail-on", "format", "sarif-file"] {
        assert!(
            input_names.contains(input),
            "no input {input}: {input_names:?}"
        );
        assert!(
            action["inputs"][input]["description"].is_string(),
            "{input} has no description"
        );
    }
    assert_eq!(action["inputs"]["image"]["required"], true);
    // Every input the steps use is declared, and every declared one is used.
    let used = expression_names(&text, "inputs.");
    assert_eq!(used, input_names, "inputs used by the steps vs declared");

    let steps = action["runs"]["steps"].as_sequence().expect("runs.steps");
    assert!(steps.len() >= 3);
    let ids: BTreeSet<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();
    for step in steps {
        let name = str_of(&step["name"], "a step's name");
        match (step.get("run"), step.get("uses")) {
            // A composite action's run steps must say their shell.
            (Some(run), None) => {
                assert!(run.is_string(), "{name}");
                assert_eq!(
                    step["shell"], "bash",
                    "{name}: a composite run step needs `shell`"
                );
            }
            (None, Some(uses)) => assert!(
                str_of(uses, name).contains('@'),
                "{name}: pin the action's version"
            ),
            _ => panic!("{name}: a step needs exactly one of run and uses"),
        }
    }
    for id in expression_names(&text, "steps.") {
        assert!(
            ids.contains(id.as_str()),
            "steps.{id} is no step's id: {ids:?}"
        );
    }
    for (output, value) in action["outputs"].as_mapping().expect("outputs") {
        assert!(
            str_of(&value["value"], "an output").contains("steps."),
            "{output:?}"
        );
    }

    // The SARIF goes to code scanning even when the scan blocked; then the exit code decides.
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@v3"))
        })
        .expect("an upload-sarif step");
    assert!(str_of(&upload["if"], "upload's if").contains("always()"));
    assert!(upload["with"]["sarif_file"].is_string());
    let scan = steps
        .iter()
        .position(|s| s["id"] == "scan")
        .expect("a step with id scan");
    let upload_at = steps.iter().position(|s| s == upload).unwrap();
    let gate = steps
        .iter()
        .rposition(|s| s["run"].as_str().is_some_and(|r| r.contains("exit 1")))
        .expect("a gate step");
    assert!(
        scan < upload_at && upload_at < gate,
        "scan, upload, then gate"
    );
    assert!(str_of(&steps[gate]["if"], "the gate's if").contains("always()"));
    let scan_run = str_of(&steps[scan]["run"], "the scan");
    assert!(
        scan_run.contains("|| status=$?") && scan_run.contains("exit-code=$status"),
        "{scan_run}"
    );
}

#[test]
fn the_example_workflow_uses_the_action_with_its_inputs() {
    let action = yaml("github/action.yml");
    let workflow = yaml("github/example-workflow.yml");
    assert!(workflow["on"].is_mapping(), "on: {:?}", workflow["on"]);
    assert_eq!(
        workflow["permissions"]["security-events"], "write",
        "upload-sarif needs security-events: write"
    );
    let jobs = workflow["jobs"].as_mapping().expect("jobs");
    let mut uses_action = 0;
    for (job, body) in jobs {
        assert!(body["runs-on"].is_string(), "{job:?}");
        for step in body["steps"].as_sequence().expect("steps") {
            let Some(uses) = step["uses"].as_str() else {
                assert!(step["run"].is_string(), "{job:?}: {step:?}");
                continue;
            };
            if !uses.contains("stowaway") {
                continue;
            }
            uses_action += 1;
            let with = step["with"].as_mapping().expect("with");
            assert!(with.contains_key("image"), "{job:?}: no image");
            for key in with.keys() {
                assert!(
                    action["inputs"].get(key).is_some(),
                    "{job:?}: the action has no input {key:?}"
                );
            }
        }
    }
    assert!(uses_action >= 1, "no step uses the action");
}

#[test]
fn the_gitlab_template_declares_its_container_scanning_and_junit_reports() {
    let template = yaml("gitlab/stowaway.gitlab-ci.yml");
    let hidden = &template[".stowaway-scan"];
    assert!(hidden.is_mapping(), "no .stowaway-scan template");
    assert_eq!(template["stowaway_scan"]["extends"], ".stowaway-scan");
    assert!(template["stowaway_scan"]["stage"].is_string());
    let artifacts = &hidden["artifacts"];
    assert_eq!(
        artifacts["when"], "always",
        "reports are wanted most when the job fails"
    );
    let reports = &artifacts["reports"];
    assert_eq!(
        reports["container_scanning"],
        "gl-container-scanning-report.json"
    );
    let junit = str_of(&reports["junit"], "reports.junit");
    let script: Vec<&str> = hidden["script"]
        .as_sequence()
        .expect("script")
        .iter()
        .map(|line| str_of(line, "a script line"))
        .collect();
    let script = script.join("\n");
    assert!(
        script.contains("gitlab=gl-container-scanning-report.json"),
        "{script}"
    );
    assert!(script.contains(&format!("junit={junit}")), "{script}");
    assert!(script.contains("exit \"$status\""), "{script}");
    assert!(template["variables"]["STOWAWAY_IMAGE"].is_string());
    let paths: Vec<&str> = hidden["cache"]["paths"]
        .as_sequence()
        .expect("cache.paths")
        .iter()
        .map(|p| str_of(p, "a path"))
        .collect();
    assert!(
        str_of(&template["variables"]["STOWAWAY_DB_DIR"], "STOWAWAY_DB_DIR")
            .ends_with(paths[0].trim_end_matches('/'))
    );
    let readme = read(&integrations().join("gitlab/README.md"));
    assert!(
        readme.contains("include:"),
        "the README has no include: example"
    );
}

// ---------------------------------------------------------------------------------------------
// Flags

/// One `stowaway` command line found in a file.
#[derive(Debug)]
struct Invocation {
    at: String,
    /// `["scan"]`, `["db", "update"]`, ...
    subcommand: Vec<String>,
    flags: Vec<String>,
    /// Every format named in a literal `--format` value.
    formats: Vec<String>,
    /// Files that `FORMAT=FILE` values write.
    outputs: Vec<String>,
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    /// `${...}`: a Groovy or shell interpolation, an opaque value; flags spelled inside it
    /// (shell's `${VAR:+--flag "$VAR"}`) are kept.
    Opaque(Vec<String>),
}

/// Lines with `\` continuations joined, each with its first line's number.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut continued = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_end();
        let (body, continues) = match trimmed.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        if continued {
            let last = out.last_mut().unwrap();
            last.1.push(' ');
            last.1.push_str(body.trim_start());
        } else {
            out.push((i + 1, body.to_string()));
        }
        continued = continues;
    }
    out
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let flush = |word: &mut String, out: &mut Vec<Token>| {
        if !word.is_empty() {
            out.push(Token::Word(std::mem::take(word)));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '$' && chars.get(i + 1) == Some(&'{') {
            let mut depth = 0;
            let start = i + 2;
            let mut end = chars.len();
            for (j, &d) in chars.iter().enumerate().skip(i + 1) {
                match d {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let inner: String = chars[start..end.max(start)].iter().collect();
            let flags = inner
                .split(|c: char| c.is_whitespace() || c == '+')
                .filter(|t| is_flag(t))
                .map(str::to_string)
                .collect();
            flush(&mut word, &mut out);
            out.push(Token::Opaque(flags));
            i = end + 1;
        } else if c.is_whitespace() {
            flush(&mut word, &mut out);
            i += 1;
        } else {
            word.push(c);
            i += 1;
        }
    }
    flush(&mut word, &mut out);
    out
}

fn is_flag(token: &str) -> bool {
    let mut chars = token.chars();
    match (chars.next(), chars.next(), chars.next()) {
        (Some('-'), Some('-'), Some(c)) => c.is_ascii_lowercase(),
        (Some('-'), Some(c), None) => c.is_ascii_alphabetic(),
        _ => false,
    }
}

/// A word without the quotes, brackets and punctuation of the language around the command.
fn bare(word: &str) -> &str {
    word.trim_end_matches(['.', ':', ';'])
        .trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | '(' | ')' | ',' | '[' | ']'))
        .trim_end_matches(['.', ':', ';'])
}

/// Where a command line ends: shell operators and redirections, a Markdown code span's end.
fn ends_command(word: &str) -> bool {
    matches!(word, "|" | "||" | "&&" | ";" | ")" | "<<<")
        || word.starts_with('>')
        || word.starts_with("2>")
        || word.starts_with('<')
        || word.starts_with('#')
}

/// The flags and `--format` values of the words of one command (after its subcommand).
fn read_arguments(words: &[Token], invocation: &mut Invocation) {
    let mut iter = words.iter().peekable();
    while let Some(token) = iter.next() {
        let word = match token {
            Token::Opaque(flags) => {
                invocation.flags.extend(flags.iter().cloned());
                continue;
            }
            Token::Word(word) => word,
        };
        let trailing = word.trim_end_matches(['.', ',', ';', ':', ')']);
        let ended = trailing.ends_with('`') || word.ends_with("\"\"\"") || word.ends_with("'''");
        let word = bare(word);
        if ends_command(word) {
            break;
        }
        if is_flag(word.split('=').next().unwrap()) {
            let (flag, attached) = match word.split_once('=') {
                Some((flag, value)) => (flag, Some(Token::Word(value.to_string()))),
                None => (word, None),
            };
            invocation.flags.push(flag.to_string());
            if flag == "--format" {
                let value = attached.or_else(|| iter.next().cloned());
                if let Some(Token::Word(value)) = value {
                    let value = bare(&value);
                    if !value.contains('$') {
                        for item in value.split(',') {
                            let (format, file) = match item.split_once('=') {
                                Some((format, file)) => (format, Some(file)),
                                None => (item, None),
                            };
                            invocation.formats.push(format.to_string());
                            invocation.outputs.extend(file.map(str::to_string));
                        }
                    }
                }
            }
        }
        if ended {
            break;
        }
    }
}

/// Every `stowaway ...` command line of a text, and the arguments assembled for one elsewhere:
/// lines appending to a list named `scanArgs` / `scan_args` (arguments of `stowaway scan`),
/// `updateArgs` / `update_args` (`stowaway db update`) or `dbArgs` / `db_args` (both), as the
/// shared-library step and the GitHub action build their optional flags.
fn invocations(at: &str, text: &str) -> Vec<Invocation> {
    let mut out = Vec::new();
    for (number, line) in logical_lines(text) {
        let words = tokens(&line);
        let word_at = |i: usize| match words.get(i) {
            Some(Token::Word(w)) => Some(bare(w)),
            _ => None,
        };
        for (i, token) in words.iter().enumerate() {
            let Token::Word(word) = token else { continue };
            let new = |subcommand: &[&str]| Invocation {
                at: format!("{at}:{number}"),
                subcommand: subcommand.iter().map(|s| s.to_string()).collect(),
                flags: Vec::new(),
                formats: Vec::new(),
                outputs: Vec::new(),
                text: line.trim().to_string(),
            };
            if bare(word) == "stowaway" && !word.ends_with('`') && !word.ends_with(['"', '\'']) {
                let (subcommand, rest): (Vec<&str>, usize) = match (word_at(i + 1), word_at(i + 2))
                {
                    (Some("scan"), _) => (vec!["scan"], i + 2),
                    (Some("db"), Some(sub)) if sub.chars().all(|c| c.is_ascii_lowercase()) => {
                        (vec!["db", sub], i + 3)
                    }
                    _ => continue,
                };
                // `stowaway scan` quoted as a name in prose or a label ends at its quote.
                if let Some(Token::Word(last)) = words.get(rest - 1)
                    && last
                        .trim_end_matches([',', ')', ';', ':'])
                        .ends_with(['`', '\'', '"'])
                {
                    continue;
                }
                let mut invocation = new(&subcommand);
                read_arguments(&words[rest..], &mut invocation);
                out.push(invocation);
            }
            let list = word.split(['<', '+', '=', '(']).next().unwrap();
            let appends = word.ends_with("<<")
                || word.contains("+=(")
                || word.contains("=(")
                || matches!(words.get(i + 1), Some(Token::Word(w)) if w == "<<" || w == "+=");
            if appends && (list.ends_with("Args") || list.ends_with("_args")) {
                let targets: &[&[&str]] = match list {
                    "scanArgs" | "scan_args" => &[&["scan"]],
                    "updateArgs" | "update_args" => &[&["db", "update"]],
                    "dbArgs" | "db_args" => &[&["scan"], &["db", "update"]],
                    _ => &[],
                };
                let after = word.find('(').map(|p| word[p + 1..].to_string());
                let mut rest: Vec<Token> = after
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .map(Token::Word)
                    .collect();
                rest.extend(
                    words[i + 1..]
                        .iter()
                        .filter(|t| !matches!(t, Token::Word(w) if w == "<<" || w == "+="))
                        .cloned(),
                );
                for subcommand in targets {
                    let mut invocation = new(subcommand);
                    read_arguments(&rest, &mut invocation);
                    out.push(invocation);
                }
            }
        }
    }
    out
}

/// The options one subcommand's `--help` lists (`-o`, `--output`, ...) and the text of its
/// `--format` option.
struct Help {
    flags: BTreeSet<String>,
    format_text: String,
}

fn help(subcommand: &[String]) -> Result<Help, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_stowaway"))
        .args(subcommand)
        .arg("--help")
        .output()
        .expect("run stowaway");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        return Err(format!(
            "`stowaway {} --help` failed: {}",
            subcommand.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut flags = BTreeSet::new();
    let mut format_text = String::new();
    let mut in_format = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        // An option's line: `  -o, --output <FILE>`, `      --format <LIST>`.
        let option =
            line.starts_with(' ') && trimmed.starts_with('-') && line.len() - trimmed.len() <= 8;
        if option {
            let spelling = trimmed.split("  ").next().unwrap();
            for part in spelling.split(", ") {
                let flag = part.split([' ', '=', '[', '<']).next().unwrap();
                flags.insert(flag.to_string());
            }
            in_format = spelling
                .split(", ")
                .any(|p| p.split([' ', '=']).next() == Some("--format"));
        }
        if in_format {
            format_text.push_str(line);
            format_text.push('\n');
        }
    }
    Ok(Help { flags, format_text })
}

/// Whether `word` appears in `text` as a whole word (not inside `cyclonedx-json`'s neighbours).
fn names_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_');
        !part(before) && !part(after)
    })
}

/// The formats and flags the integrations are written against (the CLI's interface); the test
/// checks that the files use them all, so that the extraction cannot silently find nothing.
const USED_SCAN_FLAGS: [&str; 13] = [
    "--format",
    "--fail-on",
    "--config",
    "--vex",
    "--ignore-unfixed",
    "--allow-engine-failure",
    "--clamd",
    "--db-dir",
    "--skip-vulns",
    "--registry-username",
    "--registry-password-stdin",
    "--insecure-registry",
    "--platform",
];
const USED_FORMATS: [&str; 7] = [
    "table",
    "json",
    "sarif",
    "junit",
    "html",
    "cyclonedx",
    "gitlab",
];

#[test]
fn every_stowaway_command_uses_real_flags_and_formats() {
    let mut all = Vec::new();
    for file in files() {
        let text = read(&file);
        let found = invocations(&name(&file), &text);
        // Every pipeline file runs stowaway scan.
        let pipeline = file
            .extension()
            .is_some_and(|e| e == "yml" || e == "groovy")
            || name(&file) == "jenkins/Jenkinsfile";
        if pipeline && name(&file) != "github/example-workflow.yml" {
            assert!(
                found
                    .iter()
                    .any(|i| i.subcommand == ["scan"] && !i.flags.is_empty()),
                "{}: no `stowaway scan` command found",
                name(&file)
            );
        }
        // What a format writes to a file is what the pipeline then publishes.
        for invocation in found.iter().filter(|_| pipeline) {
            for output in &invocation.outputs {
                assert!(
                    text.matches(output.as_str()).count() >= 2,
                    "{}: {output} is written but never published or archived",
                    invocation.at
                );
            }
        }
        all.extend(found);
    }
    // The example workflow's `format` inputs go to the action's `--format`.
    let workflow = yaml("github/example-workflow.yml");
    for (job, body) in workflow["jobs"].as_mapping().expect("jobs") {
        for step in body["steps"].as_sequence().expect("steps") {
            if let Some(format) = step["with"]["format"].as_str() {
                let line = format!("stowaway scan image --format {format}");
                all.extend(invocations(
                    &format!("github/example-workflow.yml (job {job:?}, with: format)"),
                    &line,
                ));
            }
        }
    }
    // The commands the shared-library step runs, as the harness saw them.
    if let Some(scenarios) = shared_library_scenarios() {
        for (scenario, calls) in scenarios {
            for script in scripts(&calls) {
                all.extend(invocations(
                    &format!("jenkins/vars/stowawayScan.groovy (run: {scenario})"),
                    &script,
                ));
            }
        }
    }

    let used: BTreeSet<&str> = all
        .iter()
        .filter(|i| i.subcommand == ["scan"])
        .flat_map(|i| i.flags.iter().map(String::as_str))
        .collect();
    for flag in USED_SCAN_FLAGS {
        assert!(
            used.contains(flag),
            "no integration uses {flag} (found {used:?})"
        );
    }
    let formats: BTreeSet<&str> = all
        .iter()
        .flat_map(|i| i.formats.iter().map(String::as_str))
        .collect();
    for format in USED_FORMATS {
        assert!(
            formats.contains(format),
            "no integration writes {format} (found {formats:?})"
        );
    }
    assert!(
        all.iter()
            .any(|i| i.subcommand == ["db", "update"] && i.flags.contains(&"--mirror".to_string()))
    );

    let mut helps: BTreeMap<Vec<String>, Result<Help, String>> = BTreeMap::new();
    // What is missing (`stowaway scan` has no --vex), with where each is used.
    let mut problems: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for invocation in &all {
        let help = helps
            .entry(invocation.subcommand.clone())
            .or_insert_with(|| help(&invocation.subcommand));
        let command = format!("stowaway {}", invocation.subcommand.join(" "));
        let help = match help {
            Ok(help) => help,
            Err(e) => {
                problems
                    .entry(e.clone())
                    .or_default()
                    .insert(invocation.at.clone());
                continue;
            }
        };
        for flag in &invocation.flags {
            if !help.flags.contains(flag) {
                problems
                    .entry(format!("`{command}` has no {flag}"))
                    .or_default()
                    .insert(format!("{}: {}", invocation.at, invocation.text));
            }
        }
        for format in &invocation.formats {
            if !names_word(&help.format_text, format) {
                problems
                    .entry(format!("`{command} --format` lists no format {format}"))
                    .or_default()
                    .insert(invocation.at.clone());
            }
        }
    }
    let details: Vec<String> = problems
        .iter()
        .map(|(problem, places)| {
            format!(
                "{problem}, used at:\n    {}",
                places.iter().cloned().collect::<Vec<_>>().join("\n    ")
            )
        })
        .collect();
    assert!(
        problems.is_empty(),
        "the integrations use what the binary does not have:\n  {}\n\n{}",
        problems.keys().cloned().collect::<Vec<_>>().join("\n  "),
        details.join("\n")
    );
}

/// The extraction itself, on the shapes the integrations use.
#[test]
fn command_lines_are_read_with_continuations_interpolations_and_argument_lists() {
    let text = r#"
        int status = sh(label: 'stowaway scan', returnStatus: true, script: '''
            stowaway scan image.tar \
                --format table,junit=j.xml \
                --fail-on "$FAIL_ON" -q \
                2> stderr.txt
        ''')
        sh "stowaway scan ${q(target)} --format ${q(formats)} ${scanArgs.join(' ')} --vex=${v}"
        scanArgs << "--config ${q(args.config)}"
        [ -z "$X" ] || scan_args+=(--clamd "$X")
        dbArgs << "--db-dir ${q(dir)}"
        stowaway db update ${M:+--mirror "$M"} || echo "stowaway db update failed"
        The `stowaway scan` command exits 1; `stowaway scan --platform linux/arm64 x` too.
    "#;
    let found = invocations("t", text);
    let summary: Vec<(String, Vec<String>, Vec<String>)> = found
        .iter()
        .map(|i| (i.subcommand.join(" "), i.flags.clone(), i.formats.clone()))
        .collect();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        summary,
        vec![
            (
                "scan".into(),
                s(&["--format", "--fail-on", "-q"]),
                s(&["table", "junit"])
            ),
            ("scan".into(), s(&["--format", "--vex"]), s(&[])),
            ("scan".into(), s(&["--config"]), s(&[])),
            ("scan".into(), s(&["--clamd"]), s(&[])),
            ("scan".into(), s(&["--db-dir"]), s(&[])),
            ("db update".into(), s(&["--db-dir"]), s(&[])),
            ("db update".into(), s(&["--mirror"]), s(&[])),
            ("db update".into(), s(&[]), s(&[])),
            ("scan".into(), s(&["--platform"]), s(&[])),
        ],
        "{found:#?}"
    );
    assert_eq!(found[0].outputs, ["j.xml"]);
    assert_eq!(found[0].at, "t:3");
}
