//! The java cataloger on a built image: Debian's real `commons-lang3` and `commons-text` jars as
//! `dpkg` installs them, the same real jars nested in a war and in a war inside an ear, a fat jar
//! carrying two `pom.properties` (its own and a shaded library's), a jar known only by its
//! manifest, and a jar a later layer deletes. The report's package list is asserted exactly,
//! with the location (layer, path, member, status) of each package.
//!
//! Needs `STOWAWAY_JAVA_DEBS`: a directory holding `libcommons-lang3-java` and
//! `libcommons-text-java` `.deb` files, which `scripts/with-test-deps` fills; skipped when it is not set.

mod common;

use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use stowaway_findings::{FileStatus, ImageReport, PackageType};
use stowaway_imagebuilder::debian::deb_layer;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, zip_of};
use stowaway_sbom::Java;

/// The bytes of the file at `path` inside a `.deb`.
fn file_of_deb(deb: &Path, path: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "dpkg-deb -x {}", deb.display());
    std::fs::read(dir.path().join(path)).unwrap()
}

/// One package as asserted: purl, then where it was found.
type Found = (String, usize, String, Option<String>, FileStatus);

fn found(report: &ImageReport) -> Vec<Found> {
    report
        .packages
        .iter()
        .map(|p| {
            assert_eq!(p.package_type, PackageType::Java, "{p:?}");
            let l = p.location.as_ref().unwrap();
            (
                p.purl.clone(),
                l.layer,
                l.path.clone(),
                l.member.clone(),
                l.status,
            )
        })
        .collect()
}

fn expect(purl: &str, layer: usize, path: &str, member: Option<&str>, status: FileStatus) -> Found {
    (
        purl.into(),
        layer,
        path.into(),
        member.map(str::to_string),
        status,
    )
}

#[test]
fn jars_wars_ears_and_fat_jars() {
    let Some(dir) = std::env::var_os("STOWAWAY_JAVA_DEBS") else {
        eprintln!(
            "skipped: set STOWAWAY_JAVA_DEBS to a directory of .deb files (scripts/with-test-deps does)"
        );
        return;
    };
    let dir = PathBuf::from(dir);
    let lang3_deb = deb(&dir, "libcommons-lang3-java");
    let text_deb = deb(&dir, "libcommons-text-java");
    let lang3 = upstream_version(&lang3_deb);
    let text = upstream_version(&text_deb);
    let lang3_jar = file_of_deb(&lang3_deb, "usr/share/java/commons-lang3.jar");
    let text_jar = file_of_deb(&text_deb, "usr/share/java/commons-text.jar");

    let lang3_name = format!("WEB-INF/lib/commons-lang3-{lang3}.jar");
    let shop = zip_of(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nCreated-By: Maven WAR Plugin 3.4.0\r\n\r\n",
        ),
        (
            "META-INF/maven/com.example/shop/pom.properties",
            b"artifactId=shop\ngroupId=com.example\nversion=1.0.0\n",
        ),
        ("WEB-INF/web.xml", b"<web-app/>"),
        (&lang3_name, &lang3_jar),
    ]);
    // Known by its manifest alone, named by its file (as Syft does), the group guessed from
    // Implementation-Vendor-Id.
    let legacy = zip_of(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nImplementation-Title: Legacy Utilities\r\nImplementation-Version: 0.9\r\nImplementation-Vendor-Id: org.example\r\n\r\n",
        ),
        ("org/example/Util.class", b"\xca\xfe\xba\xbe"),
    ]);
    let text_name = format!("WEB-INF/lib/commons-text-{text}.jar");
    let web = zip_of(&[("WEB-INF/web.xml", b"<web-app/>"), (&text_name, &text_jar)]);
    let ear = zip_of(&[
        ("META-INF/application.xml", b"<application/>"),
        ("web.war", &web),
        ("lib/legacy-util.jar", &legacy),
    ]);
    // A fat jar: its own coordinates and those of the library shaded into it.
    let fat = zip_of(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nMain-Class: com.example.app.Main\r\nImplementation-Version: 1.0\r\n\r\n",
        ),
        (
            "META-INF/maven/com.example/app/pom.properties",
            b"#Created by Apache Maven 3.9.6\nartifactId=app\ngroupId=com.example\nversion=1.0\n",
        ),
        (
            "META-INF/maven/com.google.guava/guava/pom.properties",
            b"#Created by Apache Maven 3.8.1\nversion=31.1-jre\ngroupId=com.google.guava\nartifactId=guava\n",
        ),
        ("com/example/app/Main.class", b"\xca\xfe\xba\xbe"),
        ("com/google/common/base/Strings.class", b"\xca\xfe\xba\xbe"),
    ]);
    let mut apps = LayerBuilder::new();
    apps.file("srv/shop.war", &shop)
        .file("srv/platform.ear", &ear)
        .file("opt/app/app-1.0.jar", &fat)
        .file("opt/app/readme.jar", b"not a zip");
    let mut cleanup = LayerBuilder::new();
    cleanup.whiteout("opt/app/app-1.0.jar");
    let image = Image::new(
        &["java:1"],
        vec![
            deb_layer(&lang3_deb, Compression::Gzip),
            deb_layer(&text_deb, Compression::Gzip),
            Layer::new(apps.build(), Compression::Gzip, "COPY apps /"),
            Layer::new(
                cleanup.build(),
                Compression::Gzip,
                "RUN rm /opt/app/app-1.0.jar",
            ),
        ],
    );
    let report = scan_images(&[image], &[Box::new(Java)]);

    let present = FileStatus::Present;
    let removed = FileStatus::Removed { layer: 3 };
    let lang3_purl = format!("pkg:maven/org.apache.commons/commons-lang3@{lang3}");
    let text_purl = format!("pkg:maven/org.apache.commons/commons-text@{text}");
    let ear_member = format!("web.war!{text_name}");
    assert_eq!(
        found(&report),
        [
            expect(
                "pkg:maven/com.example/app@1.0",
                2,
                "opt/app/app-1.0.jar",
                None,
                removed
            ),
            expect(
                "pkg:maven/com.example/shop@1.0.0",
                2,
                "srv/shop.war",
                None,
                present
            ),
            expect(
                "pkg:maven/com.google.guava/guava@31.1-jre",
                2,
                "opt/app/app-1.0.jar",
                None,
                removed
            ),
            expect(
                &lang3_purl,
                0,
                "usr/share/java/commons-lang3.jar",
                None,
                present
            ),
            expect(&lang3_purl, 2, "srv/shop.war", Some(&lang3_name), present),
            expect(
                &text_purl,
                1,
                "usr/share/java/commons-text.jar",
                None,
                present
            ),
            expect(
                &text_purl,
                2,
                "srv/platform.ear",
                Some(&ear_member),
                present
            ),
            expect(
                "pkg:maven/org.example/legacy-util@0.9",
                2,
                "srv/platform.ear",
                Some("lib/legacy-util.jar"),
                present
            ),
        ]
    );
    // The jar and its symlinks (commons-lang3-3.12.0.jar, the maven-repo links) are one file.
    let names: Vec<(&str, Option<&str>, &str)> = report
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.group.as_deref(), p.version.as_str()))
        .collect();
    assert_eq!(
        names[3],
        ("commons-lang3", Some("org.apache.commons"), lang3.as_str())
    );
}
