//! The JavaScript cataloger against real installs and real lockfiles, made here by the tools
//! themselves from the npm registry: npm (lockfile versions 1, 2 and 3, and the installed
//! `node_modules`), yarn 1 and yarn 4, pnpm 7, 8 and 9 (lockfile versions 5.4, 6.0 and 9.0). Each
//! tool's own listing (`npm ls`, `yarn list`, `yarn info`, `pnpm list`) is the oracle: what the
//! scan reports from the built image must be exactly the packages the tool says it resolved.
//!
//! Installs are cached under `${XDG_CACHE_HOME:-$HOME/.cache}/stowaway/sbom-tests/`, so only the
//! first run downloads anything.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use stowaway_findings::{ImageReport, Package, PackageType};
use stowaway_imagebuilder::{Compression, Layer, LayerBuilder};
use stowaway_sbom::Npm;

/// The project every tool resolves: express 4.18.2 brings some seventy packages, nested ones
/// among them, and `@types/ms` is a scoped one.
const PROJECT: &str = r#"{"name": "stowaway-npm-fixture", "version": "1.0.0", "private": true,
  "dependencies": {"express": "4.18.2", "@types/ms": "0.7.34"}}"#;

const REGISTRY: &str = "https://registry.npmjs.org";

type Pairs = BTreeSet<(String, String)>;

/// [`prepared`], in a directory that holds the project's `app/package.json`.
fn prepared_project(name: &str, make: impl FnOnce(&Path)) -> PathBuf {
    prepared(name, |work| {
        let app = work.join("app");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(app.join("package.json"), PROJECT).unwrap();
        make(work)
    })
}

/// Runs a command in `dir` and returns its standard output; it must succeed.
fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("npm_config_registry", REGISTRY)
        .env("npm_config_update_notifier", "false")
        .env("YARN_NPM_REGISTRY_SERVER", REGISTRY)
        .env("YARN_ENABLE_TELEMETRY", "0")
        .env("YARN_ENABLE_GLOBAL_CACHE", "1")
        .envs(env.iter().map(|(k, v)| (k, v.as_os_str())))
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} in {}: {}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn scan(layers: Vec<Layer>) -> ImageReport {
    scan_layers(layers, &[Box::new(Npm)])
}

/// The packages the report found in the file at `path`, as (name, version) in report order;
/// every one of them an npm package.
fn found_in<'a>(report: &'a ImageReport, path: &str) -> Vec<&'a Package> {
    report
        .packages
        .iter()
        .filter(|p| p.location.as_ref().unwrap().path == path)
        .inspect(|p| assert_eq!(p.package_type, PackageType::Npm))
        .collect()
}

fn pairs<'a>(packages: impl IntoIterator<Item = &'a Package>) -> Vec<(String, String)> {
    packages
        .into_iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect()
}

/// A lockfile's packages from the report: each exactly once.
fn lock_pairs(report: &ImageReport, path: &str) -> Pairs {
    let list = pairs(found_in(report, path));
    let set: Pairs = list.iter().cloned().collect();
    assert_eq!(list.len(), set.len(), "{path} reported a package twice");
    set
}

/// `npm ls --json` and `pnpm list --json`: nested `dependencies` maps of `{version}`.
fn npm_tree(tree: &Value, out: &mut Pairs) {
    let Some(dependencies) = tree.get("dependencies").and_then(Value::as_object) else {
        return;
    };
    for (name, dependency) in dependencies {
        let name = dependency
            .get("from")
            .and_then(Value::as_str)
            .unwrap_or(name);
        let version = dependency["version"].as_str().unwrap();
        out.insert((name.to_string(), version.to_string()));
        npm_tree(dependency, out);
    }
}

fn npm_ls(json: &str) -> Pairs {
    let mut out = Pairs::new();
    npm_tree(&serde_json::from_str(json).unwrap(), &mut out);
    assert!(out.len() > 60, "{out:?}");
    out
}

#[test]
fn npm_install_and_its_lockfile_version_3() {
    let dir = prepared_project("npm-express-4.18.2", |work| {
        let app = work.join("app");
        run(
            &app,
            "npm",
            &["install", "--ignore-scripts", "--no-audit", "--no-fund"],
            &[],
        );
        let ls = run(&app, "npm", &["ls", "--all", "--json"], &[]);
        std::fs::write(work.join("oracle.json"), ls).unwrap();
    });
    let oracle = npm_ls(&std::fs::read_to_string(dir.join("oracle.json")).unwrap());
    let lock: Value =
        serde_json::from_slice(&std::fs::read(dir.join("app/package-lock.json")).unwrap()).unwrap();
    assert_eq!(lock["lockfileVersion"], 3);

    // A dependency's own lockfile and a `package.json` stub inside a package are no packages
    // of the image.
    let mut extra = LayerBuilder::new();
    extra
        .file(
            "srv/app/node_modules/express/package-lock.json",
            br#"{"lockfileVersion": 3, "packages": {"node_modules/evil": {"version": "6.6.6"}}}"#,
        )
        .file(
            "srv/app/node_modules/express/lib/package.json",
            br#"{"name": "stub", "version": "0.0.0"}"#,
        );
    let report = scan(vec![
        dir_layer(&dir.join("app"), "srv/app", &[], "COPY . /srv/app"),
        Layer::new(extra.build(), Compression::Gzip, "COPY extra /"),
    ]);

    let installed: Vec<&Package> = report
        .packages
        .iter()
        .filter(|p| p.location.as_ref().unwrap().path.ends_with("/package.json"))
        .collect();
    for package in &installed {
        let location = package.location.as_ref().unwrap();
        assert!(
            location.path.starts_with("srv/app/node_modules/")
                && location
                    .path
                    .ends_with(&format!("node_modules/{}/package.json", package.name)),
            "{location:?}"
        );
        assert_eq!((location.layer, location.status.is_present()), (0, true));
    }
    let installed_set: Pairs = pairs(installed.iter().copied()).into_iter().collect();
    assert_eq!(installed_set, oracle, "installed packages");
    assert_eq!(
        lock_pairs(&report, "srv/app/package-lock.json"),
        oracle,
        "lockfile"
    );
    assert_eq!(
        report.packages.len(),
        installed.len() + oracle.len(),
        "nothing else was reported"
    );

    let express = installed.iter().find(|p| p.name == "express").unwrap();
    assert_eq!(express.version, "4.18.2");
    assert_eq!(express.purl, "pkg:npm/express@4.18.2");
    assert_eq!(express.licenses, ["MIT"]);
    let types = installed.iter().find(|p| p.name == "@types/ms").unwrap();
    assert_eq!(types.purl, "pkg:npm/%40types/ms@0.7.34");
    assert_eq!(
        types.location.as_ref().unwrap().path,
        "srv/app/node_modules/@types/ms/package.json"
    );
    // express 4.18.2 needs ms 2.0.0 (through debug) and ms 2.1.3 (through send): one of them
    // installed nested.
    assert!(oracle.contains(&("ms".into(), "2.0.0".into())));
    assert!(oracle.contains(&("ms".into(), "2.1.3".into())));
    assert!(installed.iter().any(|p| {
        p.location
            .as_ref()
            .unwrap()
            .path
            .matches("node_modules/")
            .count()
            == 2
            && p.name == "ms"
    }));
}

#[test]
fn npm_lockfile_versions_1_and_2() {
    for version in ["1", "2"] {
        let dir = prepared_project(&format!("npm-lock-v{version}-express-4.18.2"), |work| {
            let app = work.join("app");
            let flag = format!("--lockfile-version={version}");
            let args = ["install", "--package-lock-only", "--ignore-scripts", &flag];
            run(&app, "npm", &args, &[]);
            let ls = run(
                &app,
                "npm",
                &["ls", "--all", "--json", "--package-lock-only"],
                &[],
            );
            std::fs::write(work.join("oracle.json"), ls).unwrap();
        });
        let oracle = npm_ls(&std::fs::read_to_string(dir.join("oracle.json")).unwrap());
        let lock: Value =
            serde_json::from_slice(&std::fs::read(dir.join("app/package-lock.json")).unwrap())
                .unwrap();
        assert_eq!(lock["lockfileVersion"].to_string(), version);
        let report = scan(vec![dir_layer(
            &dir.join("app"),
            "srv/app",
            &[],
            "COPY . /srv/app",
        )]);
        assert_eq!(
            lock_pairs(&report, "srv/app/package-lock.json"),
            oracle,
            "lockfile version {version}"
        );
        assert_eq!(report.packages.len(), oracle.len());
    }
}

#[test]
fn yarn_1_lockfile() {
    let dir = prepared_project("yarn1-express-4.18.2", |work| {
        let app = work.join("app");
        let yarn = ["--yes", "yarn@1.22.22"];
        let install = [
            &yarn[..],
            &[
                "install",
                "--ignore-scripts",
                "--non-interactive",
                "--registry",
                REGISTRY,
            ],
        ]
        .concat();
        run(&app, "npx", &install, &[]);
        let list = run(&app, "npx", &[&yarn[..], &["list", "--json"]].concat(), &[]);
        std::fs::write(work.join("oracle.json"), list).unwrap();
    });
    // `yarn list`: trees named `name@version`, and `shadow` children naming a range.
    fn walk(trees: &Value, out: &mut Pairs) {
        for tree in trees.as_array().unwrap() {
            if tree.get("shadow") != Some(&Value::Bool(true)) {
                let name = tree["name"].as_str().unwrap();
                let at = name[1..].find('@').unwrap() + 1;
                out.insert((name[..at].to_string(), name[at + 1..].to_string()));
            }
            if let Some(children) = tree.get("children") {
                walk(children, out);
            }
        }
    }
    let list: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("oracle.json")).unwrap()).unwrap();
    let mut oracle = Pairs::new();
    walk(&list["data"]["trees"], &mut oracle);
    assert!(oracle.len() > 60);
    let report = scan(vec![dir_layer(
        &dir.join("app"),
        "srv/app",
        &["node_modules"],
        "COPY . /srv/app",
    )]);
    assert_eq!(lock_pairs(&report, "srv/app/yarn.lock"), oracle);
    assert_eq!(report.packages.len(), oracle.len());
}

#[test]
fn yarn_4_lockfile() {
    let dir = prepared_project("yarn4-express-4.18.2", |work| {
        let app = work.join("app");
        std::fs::write(app.join("yarn.lock"), b"").unwrap();
        let global = work.join("yarn-global");
        let env = [("YARN_GLOBAL_FOLDER", global.as_path())];
        let yarn = ["--yes", "-p", "@yarnpkg/cli-dist@4.18.1", "yarn"];
        let install = [&yarn[..], &["install", "--mode=skip-build"]].concat();
        run(&app, "npx", &install, &env);
        let info = [&yarn[..], &["info", "--all", "--recursive", "--json"]].concat();
        std::fs::write(work.join("oracle.jsonl"), run(&app, "npx", &info, &env)).unwrap();
        std::fs::remove_dir_all(global).unwrap();
    });
    // `yarn info`: one locator (`name@npm:1.2.3`) a line, with its version.
    let mut oracle = Pairs::new();
    for line in std::fs::read_to_string(dir.join("oracle.jsonl"))
        .unwrap()
        .lines()
    {
        let entry: Value = serde_json::from_str(line).unwrap();
        let locator = entry["value"].as_str().unwrap();
        let at = locator[1..].find('@').unwrap() + 1;
        if !locator[at..].starts_with("@workspace:") {
            let version = entry["children"]["Version"].as_str().unwrap();
            oracle.insert((locator[..at].to_string(), version.to_string()));
        }
    }
    assert!(oracle.len() > 60);
    let lock = std::fs::read_to_string(dir.join("app/yarn.lock")).unwrap();
    assert!(lock.contains("__metadata:") && lock.contains("@workspace:."));
    let report = scan(vec![dir_layer(
        &dir.join("app"),
        "srv/app",
        &[".yarn", ".pnp.cjs"],
        "COPY . /srv/app",
    )]);
    assert_eq!(lock_pairs(&report, "srv/app/yarn.lock"), oracle);
    assert_eq!(report.packages.len(), oracle.len());
}

/// pnpm 9's own listing of the project, installed.
fn pnpm_oracle() -> Pairs {
    let dir = prepared_project("pnpm9-express-4.18.2", |work| {
        let app = work.join("app");
        let store = work.join("store");
        let store_flag = format!("--store-dir={}", store.display());
        let pnpm = ["--yes", "pnpm@9.15.9"];
        let install = [&pnpm[..], &["install", "--ignore-scripts", &store_flag]].concat();
        run(&app, "npx", &install, &[]);
        let list = [&pnpm[..], &["list", "--depth", "Infinity", "--json"]].concat();
        std::fs::write(work.join("oracle.json"), run(&app, "npx", &list, &[])).unwrap();
        std::fs::remove_dir_all(app.join("node_modules")).unwrap();
        std::fs::remove_dir_all(store).unwrap();
    });
    let list: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("oracle.json")).unwrap()).unwrap();
    let mut oracle = Pairs::new();
    npm_tree(&list[0], &mut oracle);
    assert!(oracle.len() > 60);
    oracle
}

#[test]
fn pnpm_lockfiles_versions_5_6_and_9() {
    let oracle = pnpm_oracle();
    for (pnpm, lockfile_version) in [
        ("pnpm@9.15.9", "lockfileVersion: '9.0'"),
        ("pnpm@8.15.9", "lockfileVersion: '6.0'"),
        ("pnpm@7.33.7", "lockfileVersion: 5.4"),
    ] {
        let dir = prepared_project(&format!("{pnpm}-lock-express-4.18.2"), |work| {
            let app = work.join("app");
            let args = [
                "--yes",
                pnpm,
                "install",
                "--lockfile-only",
                "--ignore-scripts",
            ];
            run(&app, "npx", &args, &[]);
        });
        let lock = std::fs::read_to_string(dir.join("app/pnpm-lock.yaml")).unwrap();
        assert_eq!(lock.lines().next(), Some(lockfile_version));
        let report = scan(vec![dir_layer(
            &dir.join("app"),
            "srv/app",
            &[],
            "COPY . /srv/app",
        )]);
        assert_eq!(
            lock_pairs(&report, "srv/app/pnpm-lock.yaml"),
            oracle,
            "{pnpm}"
        );
        assert_eq!(report.packages.len(), oracle.len());
        let express = found_in(&report, "srv/app/pnpm-lock.yaml")
            .into_iter()
            .find(|p| p.name == "express")
            .unwrap();
        assert_eq!(express.purl, "pkg:npm/express@4.18.2");
    }
}

#[test]
fn every_cataloger_includes_npm() {
    let ids: Vec<&str> = stowaway_sbom::catalogers().iter().map(|c| c.id()).collect();
    assert!(ids.contains(&"npm"), "{ids:?}");
}
