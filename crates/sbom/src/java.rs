//! Java archives (`.jar`, `.war`, `.ear` and the other zip formats Syft's java cataloger knows):
//! the Maven coordinates in `META-INF/maven/<group>/<artifact>/pom.properties`, and the jar's
//! `META-INF/MANIFEST.MF` for a jar that carries no `pom.properties` of its own.
//!
//! # One archive at a time
//!
//! The walker shows this cataloger every file and archive member whose name is that of a Java
//! archive and whose bytes start like a zip (or with the `#!` of a launch script prepended to
//! one, as in Spring Boot's executable jars) — a jar in a layer, a jar in a war in an ear
//! (`WEB-INF/lib/x.jar`) alike — and the cataloger reads the archive's directory and its few
//! descriptor members itself. It does not take the descriptors one by one as the walker hands
//! out members, because whether the manifest names a package depends on the *other* members:
//! a manifest counts only when no `pom.properties` of the archive describes the archive itself,
//! and an analyzer that sees `MANIFEST.MF` (usually the first member) cannot know what follows.
//! Reading the directory of a zip that is already in memory costs little beside the walker's
//! own pass over it. The walker still opens the archive and shows its members, nested jars
//! included, so each nested archive is catalogued when its own turn comes, with the nested
//! archive (`app.war` + member `WEB-INF/lib/x.jar`) as the location.
//!
//! An archive larger than `--max-in-memory` reaches analyzers incomplete: its directory (at the
//! end of a zip) is not there, so nothing is catalogued from it, and the walker reports the file
//! as only partly analysed. Jars inside it are still catalogued. (The walker does not open a zip
//! behind a launch script, so the jars nested in an executable jar are not.)
//!
//! # What counts as a package (after Syft's `archive_parser.go`)
//!
//! - Every `pom.properties` with an `artifactId` and a `version` is a package (name =
//!   `artifactId`, group = `groupId`): a shaded or fat jar carries several.
//! - The manifest names the archive itself only when no `pom.properties` does. One does when its
//!   `artifactId` starts with the name in the file name (`commons-lang3` in
//!   `commons-lang3-3.12.0.jar`, as Syft decides), or equals the name the manifest gives, or when
//!   it is the archive's only one and the manifest and file name give either no version or its
//!   version: a jar renamed `app.jar` by a Dockerfile, or Tomcat's `ROOT.war`, is still its Maven
//!   artifact (here Syft would report a second package named after the file). The own
//!   `pom.properties` takes the manifest's `Bundle-License`.
//! - Otherwise the name comes, as in Syft's `selectName`, from the file name
//!   (`name-1.2.3.jar`), then the manifest's `Name`, `Bundle-Name`, `Short-Name`,
//!   `Extension-Name` or `Implementation-Title`; the version from the file name, then
//!   `Implementation-Version`, `Specification-Version`, `Plugin-Version` (Syft's list), then
//!   `Bundle-Version`. The group is Syft's guess from the manifest: of the values of
//!   `Bundle-SymbolicName`, `Extension-Name`, `Specification-Vendor`, `Implementation-Vendor`,
//!   `Implementation-Vendor-Id`, `Implementation-Title` and `Bundle-Activator` that look like a
//!   reverse domain (`org.…`), the first in sorted order (which tends to be the shortest
//!   prefix, the group id); failing that, of `Automatic-Module-Name`, `Main-Class`, `Package`.
//!   An archive without a manifest, or whose name cannot be told, gives no such package.
//!
//! `pom.xml` is not read (no licenses from it), and a plain `pom.properties` file outside any
//! archive (an exploded war) is not taken: Syft's archive cataloger does neither.

use std::io::{Cursor, Read};

use stowaway_findings::{Package, PackageType};
use stowaway_scan::{Analyzer, FileMeta, Output};

pub struct Java;

/// File extensions of Java archives, as Syft's java archive cataloger lists them (`kar`: Karaf).
const EXTENSIONS: &[&str] = &[
    "jar", "war", "ear", "par", "sar", "nar", "jpi", "hpi", "lpkg", "kar",
];

/// The largest descriptor (manifest, `pom.properties`) read from an archive.
const MAX_DESCRIPTOR_BYTES: u64 = 1 << 20;

const MANIFEST: &str = "META-INF/MANIFEST.MF";
const MAVEN_DIR: &str = "META-INF/maven/";

/// Whether `name` (a path) ends with a Java archive extension, case-insensitively.
fn is_archive_name(name: &str) -> bool {
    let base = base_name(name);
    base.rsplit_once('.').is_some_and(|(stem, extension)| {
        !stem.is_empty() && EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(extension))
    })
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Analyzer for Java {
    fn id(&self) -> &'static str {
        "java"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        // A zip, or a launch script with the zip behind it (Spring Boot's "fully executable"
        // jars), which the zip reader finds from the directory at the end.
        is_archive_name(file.name())
            && (file.head.starts_with(b"PK\x03\x04") || file.head.starts_with(b"#!"))
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], complete: bool, out: &mut Vec<Output>) {
        if !complete {
            return;
        }
        out.extend(
            parse_archive(base_name(file.name()), content)
                .into_iter()
                .map(Output::Package),
        );
    }
}

/// The packages a Java archive named `file_name` (its base name) records.
pub fn parse_archive(file_name: &str, bytes: &[u8]) -> Vec<Package> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Vec::new();
    };
    let mut manifest_index = None;
    let mut pom_indices = Vec::new();
    for (index, raw) in archive.file_names_raw().enumerate() {
        let name = String::from_utf8_lossy(raw);
        if name.eq_ignore_ascii_case(MANIFEST) {
            manifest_index.get_or_insert(index);
        } else if name.starts_with(MAVEN_DIR) && name.ends_with("/pom.properties") {
            pom_indices.push(index);
        }
    }
    let mut read = |index: usize| -> Option<String> {
        let entry = archive.by_index(index).ok()?;
        let mut bytes = Vec::new();
        entry
            .take(MAX_DESCRIPTOR_BYTES)
            .read_to_end(&mut bytes)
            .ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    };
    let poms: Vec<PomProperties> = pom_indices
        .into_iter()
        .filter_map(|index| PomProperties::parse(&read(index)?))
        .collect();
    let manifest = manifest_index
        .and_then(&mut read)
        .map(|text| Manifest::parse(&text));
    decide(file_name, manifest.as_ref(), poms)
}

/// Decides which packages an archive's descriptors describe (see the module documentation).
fn decide(file_name: &str, manifest: Option<&Manifest>, poms: Vec<PomProperties>) -> Vec<Package> {
    let (file_stem_name, file_version) = name_and_version(file_name);
    let main = manifest.and_then(|manifest| {
        let name = Some(file_stem_name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| manifest.name())?;
        let version = Some(file_version.clone())
            .filter(|v| !v.is_empty())
            .or_else(|| manifest.version())
            .unwrap_or_default();
        Some((manifest, name, version))
    });
    let own = main.as_ref().and_then(|(manifest, name, version)| {
        poms.iter().position(|pom| {
            (!file_stem_name.is_empty() && pom.artifact.starts_with(&file_stem_name))
                || manifest.name().as_deref() == Some(pom.artifact.as_str())
                || pom.artifact == *name
                || (poms.len() == 1 && (version.is_empty() || pom.version == *version))
        })
    });
    let licenses = manifest.map(Manifest::licenses).unwrap_or_default();
    let mut out: Vec<Package> = poms
        .into_iter()
        .enumerate()
        .map(|(i, pom)| {
            let mut package = Package::new(PackageType::Java, pom.artifact, pom.version);
            package.group = pom.group;
            if own == Some(i) {
                package.licenses = licenses.clone();
            }
            package
        })
        .collect();
    if let (None, Some((manifest, name, version))) = (own, main) {
        let mut package = Package::new(PackageType::Java, name, version);
        package.group = manifest.group();
        package.licenses = licenses;
        out.push(package);
    }
    out
}

/// A `pom.properties`: the Maven coordinates the archiver wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PomProperties {
    group: Option<String>,
    artifact: String,
    version: String,
}

impl PomProperties {
    /// The coordinates, when `artifactId` and `version` are there (as Syft requires).
    fn parse(text: &str) -> Option<PomProperties> {
        let properties = properties(text);
        let get = |key: &str| {
            properties
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Some(PomProperties {
            group: get("groupId"),
            artifact: get("artifactId")?,
            version: get("version")?,
        })
    }
}

/// The key/value pairs of a Java `.properties` file: `#` and `!` comments, `=`, `:` or white
/// space between key and value, `\` at the end of a line continuing it, and `\` escapes.
fn properties(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        // Leading white space goes, on continuation lines too.
        let line = line.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with(['#', '!'])) {
            continue;
        }
        let trailing = line.len() - line.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        pairs.push(split_property(&std::mem::take(&mut logical)));
    }
    if !logical.is_empty() {
        pairs.push(split_property(&logical));
    }
    pairs
}

/// Splits one logical `.properties` line into its unescaped key and value.
fn split_property(line: &str) -> (String, String) {
    let mut chars = line.chars();
    let mut key = String::new();
    let mut separator = None;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(escaped) = chars.next() {
                    key.push(unescape(escaped, &mut chars));
                }
            }
            '=' | ':' | ' ' | '\t' | '\x0c' => {
                separator = Some(c);
                break;
            }
            _ => key.push(c),
        }
    }
    let mut rest = chars.as_str().trim_start_matches([' ', '\t', '\x0c']);
    if matches!(separator, Some(' ' | '\t' | '\x0c'))
        && let Some(after) = rest.strip_prefix(['=', ':'])
    {
        rest = after.trim_start_matches([' ', '\t', '\x0c']);
    }
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                value.push(unescape(escaped, &mut chars));
            }
        } else {
            value.push(c);
        }
    }
    (key, value)
}

/// The character a `\` escape stands for (`\uXXXX` reads four more hex digits).
fn unescape(escaped: char, rest: &mut std::str::Chars<'_>) -> char {
    match escaped {
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        'f' => '\x0c',
        'u' => {
            let digits: String = rest.clone().take(4).collect();
            match u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
            {
                Some(c) if digits.len() == 4 => {
                    rest.nth(3);
                    c
                }
                _ => 'u',
            }
        }
        other => other,
    }
}

/// A `MANIFEST.MF`: its main section and its named sections, `Key: value` lines, a line that
/// starts with one space continuing the previous value.
#[derive(Debug, Default)]
struct Manifest {
    sections: Vec<Vec<(String, String)>>,
}

/// Manifest fields whose value may be a group id, in Syft's order, and those tried next.
const GROUP_FIELDS: &[&str] = &[
    "Bundle-SymbolicName",
    "Extension-Name",
    "Specification-Vendor",
    "Implementation-Vendor",
    "Implementation-Vendor-Id",
    "Implementation-Title",
    "Bundle-Activator",
];
const SECONDARY_GROUP_FIELDS: &[&str] = &["Automatic-Module-Name", "Main-Class", "Package"];

impl Manifest {
    fn parse(text: &str) -> Manifest {
        let mut sections: Vec<Vec<(String, String)>> = vec![Vec::new()];
        let mut continuing = false;
        for line in text.lines() {
            if line.trim().is_empty() {
                if sections.last().is_some_and(|s| !s.is_empty()) {
                    sections.push(Vec::new());
                }
                continuing = false;
                continue;
            }
            if let Some(more) = line.strip_prefix(' ') {
                if let (true, Some((_, value))) =
                    (continuing, sections.last_mut().and_then(|s| s.last_mut()))
                {
                    value.push_str(more.trim_end());
                }
                continue;
            }
            continuing = false;
            if let Some((key, value)) = line.split_once(':')
                && let Some(section) = sections.last_mut()
            {
                section.push((key.trim().to_string(), value.trim().to_string()));
                continuing = true;
            }
        }
        Manifest { sections }
    }

    /// A field of the main section (names are case-insensitive), if not empty.
    fn main(&self, key: &str) -> Option<&str> {
        Self::field(self.sections.first()?, key)
    }

    fn field<'a>(section: &'a [(String, String)], key: &str) -> Option<&'a str> {
        section
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A field of the main section, else of the first named section that has it.
    fn any(&self, key: &str) -> Option<&str> {
        self.sections.iter().find_map(|s| Self::field(s, key))
    }

    /// The name the manifest gives the archive (Syft's `selectName` after the file name).
    fn name(&self) -> Option<String> {
        [
            "Name",
            "Bundle-Name",
            "Short-Name",
            "Extension-Name",
            "Implementation-Title",
        ]
        .iter()
        .find_map(|key| self.main(key))
        .map(str::to_string)
    }

    /// The version the manifest gives (Syft's `selectVersion` after the file name).
    fn version(&self) -> Option<String> {
        [
            "Implementation-Version",
            "Specification-Version",
            "Plugin-Version",
            "Bundle-Version",
        ]
        .iter()
        .find_map(|key| self.any(key))
        .map(str::to_string)
    }

    /// Syft's group id guess from the manifest.
    fn group(&self) -> Option<String> {
        [GROUP_FIELDS, SECONDARY_GROUP_FIELDS]
            .iter()
            .find_map(|fields| {
                let mut candidates: Vec<String> = fields
                    .iter()
                    .flat_map(|key| self.sections.iter().filter_map(|s| Self::field(s, key)))
                    .filter(|value| {
                        ["com.", "org.", "net.", "io.", "be."]
                            .iter()
                            .any(|domain| value.starts_with(domain))
                    })
                    .map(|value| {
                        let value = value.split(';').next().unwrap_or(value);
                        value.split('#').next().unwrap_or(value).trim().to_string()
                    })
                    .filter(|value| !value.is_empty())
                    .collect();
                candidates.sort();
                candidates.into_iter().next()
            })
    }

    /// `Bundle-License`: comma-separated, each with optional `;` attributes.
    fn licenses(&self) -> Vec<String> {
        self.main("Bundle-License")
            .map(|value| {
                value
                    .split(',')
                    .filter_map(|license| license.split(';').next())
                    .map(str::trim)
                    .filter(|license| !license.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The name and version in an archive's file name, as Syft's `newJavaArchiveFilename` finds
/// them: dash-separated words that start with a letter are the name, and the version starts at
/// the first word that starts with a digit, is `build<digits>…`, or is all of `r<digits>` /
/// `rc<digits>` to the end (`my-http2-server-5.jar` → `my-http2-server`, `5`). Failing that, a
/// version after `_`, `.` or `-` at the end of the name (`foo_2.1.jar` → `foo`, `2.1`).
/// Either is empty when not found; both when the name does not have that shape.
fn name_and_version(file_name: &str) -> (String, String) {
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem);
    let words: Vec<&str> = stem.split('-').collect();
    let split = (1..words.len())
        .find(|&i| starts_version(&words[i..].join("-")))
        .unwrap_or(words.len());
    let name_ok = words[..split].iter().all(|word| {
        word.chars().next().is_some_and(char::is_alphabetic)
            && word
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    });
    if !name_ok {
        return (String::new(), String::new());
    }
    let name = words[..split].join("-");
    let version = words[split..].join("-");
    if !version.is_empty() {
        return (name, version);
    }
    let secondary = name.char_indices().find(|&(i, c)| {
        matches!(c, '.' | '_' | '-') && name.get(i + 1..).is_some_and(starts_version)
    });
    match secondary {
        Some((i, _)) => (name[..i].to_string(), name[i + 1..].to_string()),
        None => (name, String::new()),
    }
}

/// Whether the rest of a file name, from a word on, is a version (see [`name_and_version`]).
fn starts_version(rest: &str) -> bool {
    let lower = rest.to_ascii_lowercase();
    let digits_then = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_digit());
    if digits_then(&lower) {
        return true;
    }
    if lower.strip_prefix("build").is_some_and(digits_then) {
        return true;
    }
    let after_r = lower
        .strip_prefix("rc")
        .or_else(|| lower.strip_prefix('r'))
        .unwrap_or("");
    !after_r.is_empty() && after_r.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use stowaway_imagebuilder::zip_of;

    use super::*;

    fn names(packages: &[Package]) -> Vec<(Option<&str>, &str, &str)> {
        packages
            .iter()
            .map(|p| (p.group.as_deref(), p.name.as_str(), p.version.as_str()))
            .collect()
    }

    fn pom(group: &str, artifact: &str, version: &str) -> PomProperties {
        PomProperties {
            group: Some(group.into()),
            artifact: artifact.into(),
            version: version.into(),
        }
    }

    #[test]
    fn file_names_as_syft_reads_them() {
        let cases = [
            ("some-package-4.0.1.jar", "some-package", "4.0.1"),
            ("prefix.thing-4.jar", "prefix.thing", "4"),
            ("my-http2-server-5.jar", "my-http2-server", "5"),
            ("jetpack-build235-rc5.jar", "jetpack", "build235-rc5"),
            ("jetty-r5.jar", "jetty", "r5"),
            ("akka-actor_2.13-2.6.20.jar", "akka-actor_2.13", "2.6.20"),
            ("foo_2.1.jar", "foo", "2.1"),
            ("commons-lang3.jar", "commons-lang3", ""),
            ("guava-31.1-jre.jar", "guava", "31.1-jre"),
            ("1.0-foo.jar", "", ""),
            ("bad+name-1.0.jar", "", ""),
            ("app.war", "app", ""),
            ("", "", ""),
            ("-.jar", "", ""),
        ];
        for (file, name, version) in cases {
            assert_eq!(
                name_and_version(file),
                (name.to_string(), version.to_string()),
                "{file}"
            );
        }
    }

    #[test]
    fn pom_properties_format() {
        let text = "#Generated by Maven\r\n#Tue Oct 01 2024\r\n! bang comment\r\nartifactId = commons-text\r\ngroupId:org.apache\\\r\n    .commons\r\nversion 1.10.0\r\n";
        assert_eq!(
            PomProperties::parse(text),
            Some(pom("org.apache.commons", "commons-text", "1.10.0"))
        );
        assert_eq!(
            properties("a\\=b=c\\u0041\\t\nkey\\"),
            [("a=b".into(), "cA\t".into()), ("key".into(), String::new())]
        );
        assert_eq!(PomProperties::parse("artifactId=x\n"), None);
        assert_eq!(PomProperties::parse("version=1\nartifactId=\n"), None);
    }

    #[test]
    fn manifest_sections_and_continuations() {
        let text = "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.apache.commons.lang3;singleton:=true\r\nImplementation-Title: Apache Commons\r\n  Lang\r\nBundle-License: https://www.apache.org/licenses/LICENSE-2.0.txt;description=x, MIT\r\n\r\nName: org/x/\r\nImplementation-Version: 9.9\r\nImplementation-Vendor-Id: org.apache.commons\r\n";
        let manifest = Manifest::parse(text);
        assert_eq!(manifest.name().as_deref(), Some("Apache Commons Lang"));
        assert_eq!(manifest.version().as_deref(), Some("9.9"));
        assert_eq!(manifest.group().as_deref(), Some("org.apache.commons"));
        assert_eq!(
            manifest.licenses(),
            ["https://www.apache.org/licenses/LICENSE-2.0.txt", "MIT"]
        );
        let secondary = Manifest::parse("Main-Class: io.acme.Main\nImplementation-Vendor: ACME\n");
        assert_eq!(secondary.group().as_deref(), Some("io.acme.Main"));
        assert_eq!(Manifest::parse("commons-x: 1\n").group(), None);
    }

    #[test]
    fn own_pom_properties_stand_for_the_archive() {
        let manifest = Manifest::parse(
            "Implementation-Title: Apache Commons Lang\nImplementation-Version: 3.12.0\nBundle-License: Apache-2.0\n",
        );
        let packages = decide(
            "commons-lang3-3.12.0.jar",
            Some(&manifest),
            vec![pom("org.apache.commons", "commons-lang3", "3.12.0")],
        );
        assert_eq!(
            names(&packages),
            [(Some("org.apache.commons"), "commons-lang3", "3.12.0")]
        );
        assert_eq!(packages[0].licenses, ["Apache-2.0"]);
        // Renamed by a Dockerfile: the only pom.properties, with the manifest's version.
        let manifest =
            Manifest::parse("Implementation-Title: service\nImplementation-Version: 1.4\n");
        let packages = decide(
            "app.jar",
            Some(&manifest),
            vec![pom("com.acme", "order-service", "1.4")],
        );
        assert_eq!(
            names(&packages),
            [(Some("com.acme"), "order-service", "1.4")]
        );
        // Tomcat's ROOT.war: no version anywhere but in its only pom.properties.
        let manifest = Manifest::parse("Manifest-Version: 1.0\nCreated-By: Maven WAR Plugin\n");
        let packages = decide(
            "ROOT.war",
            Some(&manifest),
            vec![pom("com.acme", "shop", "3.0")],
        );
        assert_eq!(names(&packages), [(Some("com.acme"), "shop", "3.0")]);
        // A different version: the jar is something else that shades one library.
        let manifest = Manifest::parse("Implementation-Version: 2.0\n");
        let packages = decide(
            "tool.jar",
            Some(&manifest),
            vec![pom("org.x", "lib", "1.0")],
        );
        assert_eq!(
            names(&packages),
            [(Some("org.x"), "lib", "1.0"), (None, "tool", "2.0")]
        );
    }

    #[test]
    fn shaded_jar_without_its_own_pom_properties() {
        let manifest = Manifest::parse(
            "Implementation-Title: tool\nImplementation-Version: 2.0\nImplementation-Vendor-Id: io.acme\n",
        );
        let packages = decide(
            "tool.jar",
            Some(&manifest),
            vec![
                pom("com.google.guava", "guava", "31.1-jre"),
                pom("org.slf4j", "slf4j-api", "2.0.7"),
            ],
        );
        assert_eq!(
            names(&packages),
            [
                (Some("com.google.guava"), "guava", "31.1-jre"),
                (Some("org.slf4j"), "slf4j-api", "2.0.7"),
                (Some("io.acme"), "tool", "2.0"),
            ]
        );
        // Without a manifest only the pom.properties count.
        assert!(decide("x.jar", None, vec![]).is_empty());
        assert_eq!(
            names(&decide("x.jar", None, vec![pom("g", "a", "1")])),
            [(Some("g"), "a", "1")]
        );
    }

    #[test]
    fn manifest_only_jar_named_by_file_then_manifest() {
        let manifest = Manifest::parse("Bundle-Name: Widget\nBundle-Version: 0.3.1\n");
        assert_eq!(
            names(&decide("widget-core-1.0.jar", Some(&manifest), vec![])),
            [(None, "widget-core", "1.0")]
        );
        assert_eq!(
            names(&decide("1.jar", Some(&manifest), vec![])),
            [(None, "Widget", "0.3.1")]
        );
        let nameless = Manifest::parse("Manifest-Version: 1.0\n");
        assert!(decide("1.jar", Some(&nameless), vec![]).is_empty());
    }

    #[test]
    fn archives_in_memory() {
        let jar = zip_of(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"),
            (
                "META-INF/maven/com.acme/app/pom.properties",
                b"groupId=com.acme\nartifactId=app\nversion=1.0\n",
            ),
            (
                "META-INF/maven/com.google.guava/guava/pom.properties",
                b"groupId=com.google.guava\nartifactId=guava\nversion=31.1-jre\n",
            ),
            ("META-INF/maven/x/y/pom.xml", b"<project/>"),
        ]);
        assert_eq!(
            names(&parse_archive("app-1.0.jar", &jar)),
            [
                (Some("com.acme"), "app", "1.0"),
                (Some("com.google.guava"), "guava", "31.1-jre"),
            ]
        );
    }

    #[test]
    fn malformed_archives_do_not_panic() {
        let jar = zip_of(&[
            (
                "META-INF/MANIFEST.MF",
                b"\xff\xfe: \n \n:::\n continuation\n",
            ),
            (
                "META-INF/maven/a/b/pom.properties",
                b"\\\\\\\n\\u12\\uZZZZ=\\",
            ),
        ]);
        // The pom.properties has no coordinates; the manifest no name, so the file name counts.
        assert_eq!(names(&parse_archive("x.jar", &jar)), [(None, "x", "")]);
        assert!(parse_archive("1.jar", &jar).is_empty());
        for cut in [0, 4, 30, jar.len() / 2, jar.len() - 1] {
            assert!(parse_archive("x.jar", &jar[..cut]).is_empty());
        }
        assert!(parse_archive("x.jar", b"PK\x03\x04garbage").is_empty());
        // Every byte flipped in turn: damaged directories and headers, never a panic.
        for i in 0..jar.len() {
            let mut damaged = jar.clone();
            damaged[i] ^= 0xff;
            let _ = parse_archive("x.jar", &damaged);
        }
    }

    #[test]
    fn executable_jar_behind_a_launch_script() {
        let mut jar = b"#!/bin/bash\nexec java -jar \"$0\" \"$@\"\n".to_vec();
        jar.extend(zip_of(&[(
            "META-INF/maven/com.acme/svc/pom.properties",
            b"groupId=com.acme\nartifactId=svc\nversion=2.1\n",
        )]));
        assert_eq!(
            names(&parse_archive("svc.jar", &jar)),
            [(Some("com.acme"), "svc", "2.1")]
        );
    }

    #[test]
    fn wants_java_archives_by_name_and_bytes() {
        let meta = |path, member, head| FileMeta {
            path,
            member,
            size: 10,
            mode: 0o644,
            head,
        };
        let zip = b"PK\x03\x04....";
        assert!(Java.wants(&meta("usr/share/java/a.jar", None, zip)));
        assert!(Java.wants(&meta("srv/app.ear", Some("web.war!WEB-INF/lib/x.JAR"), zip)));
        assert!(!Java.wants(&meta("srv/app.jar", Some("lib/notes.txt"), zip)));
        assert!(Java.wants(&meta("opt/app.jar", None, b"#!/bin/bash\n")));
        assert!(!Java.wants(&meta("usr/share/java/a.jar", None, b"\x7fELF")));
        assert!(!Java.wants(&meta("usr/share/java/.jar", None, zip)));
    }
}
