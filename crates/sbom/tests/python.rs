//! The Python cataloger against a real `pip install --target` of pinned distributions, with
//! `pip list --path` as the oracle, plus the older layouts made from real setuptools output (the
//! `six.egg-info/PKG-INFO` of six's sdist): an `.egg-info` directory and file, an `.egg` zip and
//! directory; and a real wheel lying in the image.
//!
//! Downloads are cached under `${XDG_CACHE_HOME:-$HOME/.cache}/stowaway/sbom-tests/`, so only
//! the first run reaches PyPI.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;
use stowaway_findings::{ImageReport, PackageType};
use stowaway_imagebuilder::{Compression, Layer, LayerBuilder, zip_of};
use stowaway_sbom::Python;

const PINNED: &[&str] = &[
    "requests==2.31.0",
    "certifi==2023.11.17",
    "charset-normalizer==3.3.2",
    "idna==3.6",
    "urllib3==2.1.0",
    "six==1.16.0",
];

const SITE: &str = "usr/local/lib/python3.11/site-packages";

fn python(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("python3")
        .args(args)
        .current_dir(dir)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "python3 {args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// pip's install of [`PINNED`] (`site/`), its `pip list` (`oracle.json`), six's sdist (`sdist/`)
/// and the `PKG-INFO` setuptools wrote into it, and idna's wheel (`wheels/`).
fn downloads() -> &'static Path {
    static DOWNLOADS: OnceLock<PathBuf> = OnceLock::new();
    DOWNLOADS.get_or_init(|| prepared("pip-requests-2.31.0", |work| {
        let mut install = vec!["-m", "pip", "install", "--target", "site", "--no-compile"];
        install.extend(["--only-binary", ":all:"]);
        install.extend(PINNED);
        python(work, &install);
        let list = python(
            work,
            &["-m", "pip", "list", "--path", "site", "--format", "json"],
        );
        std::fs::write(work.join("oracle.json"), list).unwrap();
        python(
            work,
            &["-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
                .iter()
                .chain(&["-d", "sdist", "six==1.16.0"])
                .copied()
                .collect::<Vec<_>>(),
        );
        python(
            work,
            &[
                "-c",
                "import tarfile; t = tarfile.open('sdist/six-1.16.0.tar.gz'); \
                 open('PKG-INFO', 'wb').write(t.extractfile('six-1.16.0/six.egg-info/PKG-INFO').read())",
            ],
        );
        let wheel = [
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
        ];
        python(work, &[&wheel[..], &["-d", "wheels", "idna==3.6"]].concat());
    }))
}

fn scan(layers: Vec<Layer>) -> ImageReport {
    scan_layers(layers, &[Box::new(Python)])
}

#[test]
fn pip_install_target_equals_pip_list() {
    let dir = downloads();
    let list: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("oracle.json")).unwrap()).unwrap();
    let mut oracle: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let field = |key: &str| p[key].as_str().unwrap().to_string();
            (field("name"), field("version"))
        })
        .collect();
    oracle.sort();
    assert_eq!(oracle.len(), PINNED.len(), "{oracle:?}");

    let report = scan(vec![dir_layer(
        &dir.join("site"),
        SITE,
        &[],
        "RUN pip install",
    )]);
    let mut found: Vec<(String, String)> = Vec::new();
    for package in &report.packages {
        let location = package.location.as_ref().unwrap();
        assert_eq!(package.package_type, PackageType::Python);
        assert!(
            location.path.starts_with(SITE) && location.path.ends_with(".dist-info/METADATA"),
            "{location:?}"
        );
        assert_eq!(location.member, None);
        found.push((package.name.clone(), package.version.clone()));
    }
    found.sort();
    assert_eq!(found, oracle);

    let get = |name: &str| report.packages.iter().find(|p| p.name == name).unwrap();
    assert_eq!(
        get("charset-normalizer").purl,
        "pkg:pypi/charset-normalizer@3.3.2"
    );
    assert_eq!(get("requests").purl, "pkg:pypi/requests@2.31.0");
    assert_eq!(get("requests").licenses, ["Apache 2.0"]);
    assert_eq!(get("certifi").licenses, ["MPL-2.0"]);
    assert_eq!(get("six").licenses, ["MIT"]);
    assert_eq!(get("urllib3").licenses, ["MIT License"]);
}

#[test]
fn eggs_egg_info_and_wheels() {
    let dir = downloads();
    let pkg_info = std::fs::read(dir.join("PKG-INFO")).unwrap();
    assert!(pkg_info.starts_with(b"Metadata-Version: "));
    let wheel = std::fs::read(dir.join("wheels/idna-3.6-py3-none-any.whl")).unwrap();
    let sdist = std::fs::read(dir.join("sdist/six-1.16.0.tar.gz")).unwrap();
    let egg = zip_of(&[("EGG-INFO/PKG-INFO", &pkg_info), ("six.py", b"# six\n")]);
    let mut layer = LayerBuilder::new();
    layer
        .file(
            "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
            &pkg_info,
        )
        .file(
            "usr/lib/python2.7/dist-packages/six-1.16.0.egg-info",
            &pkg_info,
        )
        .file("opt/eggs/six-1.16.0-py3.11.egg", &egg)
        .file(
            "opt/eggdir/six-1.16.0-py3.11.egg/EGG-INFO/PKG-INFO",
            &pkg_info,
        )
        .file("root/wheels/idna-3.6-py3-none-any.whl", &wheel)
        // An sdist is source, not an installed distribution, though it holds egg-info.
        .file("root/sdist/six-1.16.0.tar.gz", &sdist)
        // Neither is metadata outside a distribution's own metadata directory.
        .file("usr/lib/python3/dist-packages/six/PKG-INFO", &pkg_info)
        .file(
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD",
            &pkg_info,
        );
    let report = scan(vec![Layer::new(
        layer.build(),
        Compression::Gzip,
        "COPY . /",
    )]);
    let found: Vec<(&str, Option<&str>, &str, &str, &str)> = report
        .packages
        .iter()
        .map(|p| {
            let location = p.location.as_ref().unwrap();
            (
                location.path.as_str(),
                location.member.as_deref(),
                p.name.as_str(),
                p.version.as_str(),
                p.purl.as_str(),
            )
        })
        .collect();
    let six = "pkg:pypi/six@1.16.0";
    assert_eq!(
        found,
        [
            (
                "root/wheels/idna-3.6-py3-none-any.whl",
                Some("idna-3.6.dist-info/METADATA"),
                "idna",
                "3.6",
                "pkg:pypi/idna@3.6"
            ),
            (
                "opt/eggdir/six-1.16.0-py3.11.egg/EGG-INFO/PKG-INFO",
                None,
                "six",
                "1.16.0",
                six
            ),
            (
                "opt/eggs/six-1.16.0-py3.11.egg",
                Some("EGG-INFO/PKG-INFO"),
                "six",
                "1.16.0",
                six
            ),
            (
                "usr/lib/python2.7/dist-packages/six-1.16.0.egg-info",
                None,
                "six",
                "1.16.0",
                six
            ),
            (
                "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
                None,
                "six",
                "1.16.0",
                six
            ),
        ]
    );
    for package in &report.packages {
        assert_eq!(package.package_type, PackageType::Python);
        if package.name == "six" {
            assert_eq!(package.licenses, ["MIT"]);
        }
    }
}

#[test]
fn every_cataloger_includes_python() {
    let ids: Vec<&str> = stowaway_sbom::catalogers().iter().map(|c| c.id()).collect();
    assert!(ids.contains(&"python"), "{ids:?}");
}
