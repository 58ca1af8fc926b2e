//! Every configuration check fires on an image built to violate it and stays quiet on one that
//! does not; the checks see the config as both `docker save` layouts write it.

use std::collections::BTreeMap;

use serde_json::json;
use stowaway_findings::{ImageReport, Kind};
use stowaway_image::Platform;
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, Members, docker_save_classic, docker_save_oci,
};
use stowaway_lint::{Accounts, Enabled, Names, check_image, checks};
use stowaway_scan::{Analyzer, Input, Limits, NoProgress, ScanOptions};

fn scan(archive: Members, enabled: &Enabled, image_name: Option<&str>) -> ImageReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    std::fs::write(&path, archive.to_tar()).unwrap();
    let analyzers: Vec<Box<dyn Analyzer>> = vec![Box::new(Accounts::new(enabled.clone()))];
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    let mut image = stowaway_scan::scan(&Input::Path(path), &analyzers, &options)
        .unwrap()
        .remove(0);
    let names = Names::bundled(image_name.map(str::to_string));
    let findings = check_image(&image, enabled, &names);
    image.add_findings(findings);
    image
}

/// Finding ids of the config kind, with how many of each.
fn counts(image: &ImageReport) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for finding in &image.findings {
        if finding.kind == Kind::Config {
            *counts.entry(finding.id.clone()).or_default() += 1;
        }
    }
    counts
}

fn layer(created_by: &str, build: impl FnOnce(&mut LayerBuilder)) -> Layer {
    let mut builder = LayerBuilder::new();
    build(&mut builder);
    Layer::new(builder.build(), Compression::Gzip, created_by)
}

fn violating() -> Image {
    let layers = vec![
        layer("/bin/sh -c #(nop) ADD file:5b1d0c in / ", |l| {
            l.file("etc/passwd", b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\ntoor:x:0:0::/root:/bin/sh\n")
                .file("etc/shadow", b"root:*:19000:0:99999:7:::\ndaemon:*:19000::::::\ntoor::19000:0:99999:7:::\n")
                .file_mode("usr/local/bin/helper", b"#!/bin/sh\n", 0o4755);
        }),
        layer("ADD https://example.com/tool.tgz /opt/ # buildkit", |l| {
            l.file("opt/tool.tgz", b"x");
        }),
        layer(
            "RUN /bin/sh -c curl -fsSL https://get.example.com/install.sh | sh # buildkit",
            |l| {
                l.file("opt/installed", b"x");
            },
        ),
        layer(
            "/bin/sh -c apt-get update && apt-get install -y --allow-unauthenticated curl",
            |l| {
                l.file("var/lib/apt/lists/lock", b"");
            },
        ),
        layer("/bin/sh -c sudo chmod 777 /srv", |l| {
            l.dir("srv");
        }),
    ];
    let mut image = Image::new(&["shop/app:latest"], layers);
    image.settings = json!({
        "Env": ["PATH=/usr/bin:/bin", "DB_PASSWORD=Sup3rS3cretValue"],
        "Cmd": ["/opt/tool"],
        "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}},
        "Volumes": {"/proc": {}, "/data": {}},
    });
    image
}

fn well_built() -> Image {
    let layers = vec![
        layer("/bin/sh -c #(nop) ADD file:5b1d0c in / ", |l| {
            l.file("etc/passwd", b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\n")
                .file("etc/shadow", b"root:*:19000:0:99999:7:::\ndaemon:*:19000::::::\napp:!:19000:0:99999:7:::\n")
                .file_mode("usr/local/bin/tool", b"#!/bin/sh\n", 0o755);
        }),
        layer("COPY tool.tgz /opt/ # buildkit", |l| {
            l.file("opt/tool.tgz", b"x");
        }),
        layer(
            "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* # buildkit",
            |l| {
                l.file("usr/bin/curl", b"x");
            },
        ),
        layer(
            "RUN |1 VERSION=1.2 /bin/sh -c curl -fsSLo /tmp/t.tgz https://example.com/t-$VERSION.tgz && echo \"$SUM  /tmp/t.tgz\" | sha256sum -c - # buildkit",
            |l| {
                l.file("opt/t", b"x");
            },
        ),
        layer("/bin/sh -c chmod 0755 /srv && chown app /srv", |l| {
            l.dir("srv");
        }),
    ];
    let mut image = Image::new(&["shop/app:1.4.2"], layers);
    image.settings = json!({
        "User": "app",
        "Env": ["PATH=/usr/bin:/bin", "DB_PASSWORD_FILE=/run/secrets/db", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"],
        "Cmd": ["/opt/t"],
        "ExposedPorts": {"8080/tcp": {}},
        "Volumes": {"/data": {}},
        "Healthcheck": {"Test": ["CMD", "/opt/t", "--health"], "Interval": 30000000000u64},
    });
    image.empty_steps = vec!["USER app".into(), "HEALTHCHECK CMD /opt/t --health".into()];
    image
}

fn expected_violations() -> BTreeMap<String, usize> {
    [
        ("STW-CFG-ROOT-USER", 1),
        ("STW-CFG-NO-HEALTHCHECK", 1),
        ("STW-CFG-SECRET-ENV", 1),
        ("STW-CFG-REMOTE-ACCESS-PORT", 1),
        ("STW-CFG-SENSITIVE-VOLUME", 1),
        ("STW-CFG-LATEST-TAG", 1),
        ("STW-CFG-ADD-REMOTE", 1),
        ("STW-CFG-PIPE-TO-SHELL", 1),
        ("STW-CFG-SUDO", 1),
        ("STW-CFG-PERMISSIVE-CHMOD", 1),
        ("STW-CFG-PACKAGE-CACHE", 1),
        ("STW-CFG-INSECURE-INSTALL", 1),
        ("STW-CFG-SETUID-FILE", 1),
        ("STW-CFG-EMPTY-PASSWORD", 1),
        ("STW-CFG-DUPLICATE-UID", 1),
    ]
    .into_iter()
    .map(|(id, n)| (id.to_string(), n))
    .collect()
}

#[test]
fn every_check_fires_on_an_image_built_to_violate_it() {
    let enabled = Enabled::default();
    for archive in [
        docker_save_oci(&[violating()]),
        docker_save_classic(&[violating()]),
    ] {
        let image = scan(archive, &enabled, None);
        let found = counts(&image);
        assert_eq!(found, expected_violations());
        // Every config check of the table is covered by this image.
        let config_checks: Vec<&str> = checks::ALL
            .iter()
            .map(|c| c.id)
            .filter(|id| id.starts_with("STW-CFG-"))
            .collect();
        assert_eq!(
            found.keys().map(String::as_str).collect::<Vec<_>>().len(),
            config_checks.len()
        );

        let by_id = |id: &str| image.findings.iter().find(|f| f.id == id).unwrap();
        let empty = by_id("STW-CFG-EMPTY-PASSWORD");
        let location = empty.location.as_ref().unwrap();
        assert_eq!(
            (location.path.as_str(), location.line),
            ("etc/shadow", Some(3))
        );
        assert!(empty.title.contains("'toor'"), "{}", empty.title);
        let duplicate = by_id("STW-CFG-DUPLICATE-UID");
        assert!(
            duplicate.title.contains("root, toor"),
            "{}",
            duplicate.title
        );
        let setuid = by_id("STW-CFG-SETUID-FILE");
        assert_eq!(
            setuid.location.as_ref().unwrap().path,
            "usr/local/bin/helper"
        );
        let env = by_id("STW-CFG-SECRET-ENV");
        let evidence = env.evidence.as_deref().unwrap();
        assert!(!evidence.contains("Sup3r"), "{evidence}");
        assert!(
            by_id("STW-CFG-PIPE-TO-SHELL")
                .title
                .starts_with("build step 2 (layer 2)")
        );
    }
}

#[test]
fn a_well_built_image_raises_no_config_finding() {
    for archive in [
        docker_save_oci(&[well_built()]),
        docker_save_classic(&[well_built()]),
    ] {
        let image = scan(archive, &Enabled::default(), None);
        assert_eq!(counts(&image), BTreeMap::new(), "{:#?}", image.findings);
        assert!(image.findings.is_empty(), "{:#?}", image.findings);
    }
}

#[test]
fn healthcheck_none_counts_as_none_and_checks_can_be_turned_off() {
    let mut image = well_built();
    image.settings["Healthcheck"] = json!({"Test": ["NONE"]});
    let report = scan(docker_save_oci(&[image]), &Enabled::default(), None);
    assert_eq!(counts(&report).get("STW-CFG-NO-HEALTHCHECK"), Some(&1));

    let skipped: Vec<String> = expected_violations().into_keys().collect();
    let enabled = Enabled::skipping(&skipped).unwrap();
    let report = scan(docker_save_oci(&[violating()]), &enabled, None);
    assert_eq!(counts(&report), BTreeMap::new());
}

#[test]
fn image_and_package_names_that_imitate_popular_ones_are_flagged() {
    let mut image = well_built();
    image.tags = vec!["0penjdk:17".into()];
    image.layers.push(layer(
        "COPY node_modules /app/node_modules # buildkit",
        |l| {
            l.file(
                "app/node_modules/loadsh/package.json",
                br#"{"name": "loadsh", "version": "0.0.4"}"#,
            )
            .file(
                "app/node_modules/lodash/package.json",
                br#"{"name": "lodash", "version": "4.17.21"}"#,
            );
        },
    ));
    let enabled = Enabled::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    std::fs::write(&path, docker_save_oci(&[image]).to_tar()).unwrap();
    let mut analyzers: Vec<Box<dyn Analyzer>> = vec![Box::new(Accounts::new(enabled.clone()))];
    analyzers.extend(stowaway_sbom::catalogers());
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    let report = stowaway_scan::scan(&Input::Path(path), &analyzers, &options)
        .unwrap()
        .remove(0);
    let typosquats = |names: &Names| -> Vec<(String, Option<String>)> {
        check_image(&report, &enabled, names)
            .into_iter()
            .filter(|f| f.kind == Kind::Typosquat)
            .map(|f| (f.id, f.location.map(|l| l.path)))
            .collect()
    };
    assert_eq!(
        typosquats(&Names::bundled(None)),
        [
            ("STW-TYPOSQUAT-IMAGE".to_string(), None),
            (
                "STW-TYPOSQUAT-PACKAGE".to_string(),
                Some("app/node_modules/loadsh/package.json".to_string())
            ),
        ]
    );
    // --image-name replaces the archive's tags.
    let named = typosquats(&Names::bundled(Some("docker.io/library/openjdk:17".into())));
    assert_eq!(named.len(), 1, "{named:?}");
}
