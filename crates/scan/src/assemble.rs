//! Builds an [`ImageReport`] from the image's declarations and its walked layers: checks the
//! layers' digests, merges the layers, and locates every finding (layer, path, member, status,
//! build step).

use std::cmp::Reverse;
use std::collections::BTreeMap;

// Seeded like std's, but several times faster on the short path keys of a hundred thousand files.
use foldhash::HashMap;
use foldhash::HashMapExt as _;

use stowaway_findings::{
    ArchiveMember, Counts, FileScan, FileStatus, Finding, HistoryEntry, ImageConfig, ImageReport,
    Integrity, InventoryEntry, Kind, LayerSummary, LayerThreats, Location, MalwareReport,
    NotScanned, OsInfo, Package, PackageType, Severity, Verdict, VerdictCounts, sort_findings,
};
use stowaway_image::LayerSpec;

use crate::analyzer::{Analyzer, Output};
use crate::analyzers::OS_FILES;
use crate::merge;
use crate::source::LayerScan;
use crate::walk::EntryKind;

/// What the image says about itself, apart from its layers.
pub(crate) struct Header {
    pub name: String,
    pub tags: Vec<String>,
    pub config_digest: Option<String>,
    pub manifest_digest: Option<String>,
    pub platform: Option<String>,
    pub config: Option<ImageConfig>,
    /// `(created, created_by, empty_layer)` of every history entry.
    pub history: Vec<(Option<String>, Option<String>, bool)>,
}

/// A walked layer with what the image declares about it (nothing, for a root filesystem).
pub(crate) struct ScannedLayer<'a> {
    pub spec: Option<&'a LayerSpec>,
    pub scan: &'a LayerScan,
}

fn mismatch(layer: usize, what: &str, declared: &str, actual: &str) -> Finding {
    Finding {
        id: "STW-LAYER-DIGEST-MISMATCH".into(),
        kind: Kind::Integrity,
        severity: Severity::Critical,
        title: format!(
            "layer {layer}: content does not match the {what} the image declares (tampered or corrupt image)"
        ),
        location: None,
        evidence: Some(format!("declared {declared}, content is {actual}")),
        engine: "digest-check".into(),
        vulnerability: None,
    }
}

fn summarize(index: usize, layer: &ScannedLayer, findings: &mut Vec<Finding>) -> LayerSummary {
    let digests = layer.scan.digests.as_ref();
    let mut integrity = Integrity::Undeclared;
    if let (Some(spec), Some(digests)) = (layer.spec, digests) {
        integrity = Integrity::Verified;
        let checks = [
            (
                "blob digest",
                spec.blob_digest.as_ref(),
                &digests.blob_digest,
            ),
            ("diff id", spec.diff_id.as_ref(), &digests.diff_id),
        ];
        for (what, declared, actual) in checks {
            if let Some(declared) = declared.filter(|d| *d != actual) {
                integrity = Integrity::Mismatch;
                findings.push(mismatch(index, what, declared.as_str(), actual.as_str()));
            }
        }
    }
    let walked_bytes: u64 = layer.scan.walk.entries.iter().map(|e| e.size).sum();
    LayerSummary {
        index,
        diff_id: digests.map(|d| d.diff_id.to_string()),
        blob_digest: digests.map(|d| d.blob_digest.to_string()),
        compression: digests
            .map_or("none", |d| d.compression.as_str())
            .to_string(),
        size: digests.map_or(walked_bytes, |d| d.blob_size),
        uncompressed_size: digests.map_or(walked_bytes, |d| d.uncompressed_size),
        entries: layer.scan.walk.entries.len(),
        integrity,
        created_by: layer.spec.and_then(|s| s.created_by.clone()),
    }
}

fn history(header: &Header, layers: usize) -> Vec<HistoryEntry> {
    let mut next_layer = 0;
    header
        .history
        .iter()
        .map(|(created, created_by, empty_layer)| {
            let layer = (!empty_layer && next_layer < layers).then(|| {
                next_layer += 1;
                next_layer - 1
            });
            HistoryEntry {
                created: created.clone(),
                created_by: created_by.clone(),
                empty_layer: *empty_layer,
                layer,
            }
        })
        .collect()
}

/// The per-file engine verdicts of every layer, with the walker's reasons for files it could not
/// scan whole.
fn scanned_files(
    layers: &[ScannedLayer],
    status_of: &(dyn Fn(usize, &str) -> FileStatus + Sync),
) -> (Vec<FileScan>, VerdictCounts) {
    let mut files = Vec::with_capacity(layers.iter().map(|l| l.scan.walk.verdicts.len()).sum());
    let mut verdicts = VerdictCounts::default();
    for (i, layer) in layers.iter().enumerate() {
        let walk = &layer.scan.walk;
        let mut reasons: HashMap<(&str, Option<&str>), &crate::walk::Skipped> = HashMap::new();
        for skipped in &walk.skipped {
            reasons
                .entry((skipped.path.as_str(), skipped.member.as_deref()))
                .or_insert(skipped);
        }
        for file in &walk.verdicts {
            let reason = reasons.get(&(file.path.as_str(), file.member.as_deref()));
            let worst = file.results.iter().map(|r| r.verdict).max();
            let verdict = worst
                .into_iter()
                .chain(reason.map(|_| Verdict::NotScanned))
                .max()
                .unwrap_or(Verdict::Clean);
            verdicts.add(verdict);
            files.push(FileScan {
                path: file.path.clone(),
                member: file.member.clone(),
                layer: i,
                status: status_of(i, &file.path),
                verdict,
                not_scanned: reason.map(|r| r.code),
                reason: reason.map(|r| r.reason.clone()),
                results: file.results.clone(),
            });
        }
    }
    (files, verdicts)
}

/// The malware section: the engines, every file's verdicts, and the detections grouped by the
/// layer that brought them.
fn malware_report(
    engines: Vec<String>,
    (files, verdicts): (Vec<FileScan>, VerdictCounts),
    findings: &[Finding],
    summaries: &[LayerSummary],
) -> MalwareReport {
    let mut threats_by_layer: Vec<LayerThreats> = Vec::new();
    for finding in findings {
        let Some(location) = &finding.location else {
            continue;
        };
        let detection = Verdict::of_finding(finding).is_some_and(|v| v != Verdict::Failed);
        if !detection || !engines.contains(&finding.engine) {
            continue;
        }
        let threat = format!(
            "{}: {} ({})",
            location.display_path(),
            finding.id,
            finding.engine
        );
        match threats_by_layer
            .iter_mut()
            .find(|t| t.layer == location.layer)
        {
            Some(layer) => layer.threats.push(threat),
            None => threats_by_layer.push(LayerThreats {
                layer: location.layer,
                created_by: summaries[location.layer].created_by.clone(),
                threats: vec![threat],
            }),
        }
    }
    threats_by_layer.sort_by_key(|t| t.layer);
    MalwareReport {
        engines,
        files_scanned: files.len(),
        verdicts,
        threats_by_layer,
        files,
    }
}

pub(crate) fn assemble(
    header: Header,
    layers: &[ScannedLayer],
    analyzers: &[Box<dyn Analyzer>],
) -> ImageReport {
    let entries: Vec<&[crate::walk::LayerEntry]> =
        layers.iter().map(|l| &l.scan.walk.entries[..]).collect();
    // The merge and the path index do not depend on each other: the index is built on a second
    // thread. So is the list of every file's verdicts, below.
    let (statuses, index) = std::thread::scope(|scope| {
        let index = scope.spawn(|| path_index(&entries));
        let statuses = merge::statuses(&entries);
        (statuses, join(index))
    });
    let status_of = |layer: usize, path: &str| {
        index[layer]
            .get(path)
            .map_or(FileStatus::Present, |&i| statuses[layer][i])
    };
    let engines: Vec<String> = analyzers
        .iter()
        .filter(|a| a.is_engine())
        .map(|a| a.id().to_string())
        .collect();
    let (files, mut report) = std::thread::scope(|scope| {
        let files =
            (!engines.is_empty()).then(|| scope.spawn(|| scanned_files(layers, &status_of)));
        let report = everything_but_malware(header, layers, &statuses, &status_of);
        (files.map(join), report)
    });
    report.malware =
        files.map(|files| malware_report(engines, files, &report.findings, &report.layers));
    report
}

/// The report of the image without its malware section: layers, inventory, archive members,
/// findings with their locations, files not scanned, the OS and the packages.
fn everything_but_malware(
    header: Header,
    layers: &[ScannedLayer],
    statuses: &[Vec<FileStatus>],
    status_of: &dyn Fn(usize, &str) -> FileStatus,
) -> ImageReport {
    let mut findings = Vec::new();
    let summaries: Vec<LayerSummary> = layers
        .iter()
        .enumerate()
        .map(|(i, layer)| summarize(i, layer, &mut findings))
        .collect();
    let location = |layer: usize, path: &str, member: Option<&String>| Location {
        layer,
        layer_digest: summaries[layer].diff_id.clone(),
        path: path.to_string(),
        member: member.cloned(),
        line: None,
        status: status_of(layer, path),
        created_by: summaries[layer].created_by.clone(),
    };

    let mut inventory = Vec::with_capacity(layers.iter().map(|l| l.scan.walk.entries.len()).sum());
    let mut archive_members =
        Vec::with_capacity(layers.iter().map(|l| l.scan.walk.members.len()).sum());
    let mut not_scanned = Vec::new();
    let mut os_candidates: Vec<(usize, OsInfo, FileStatus)> = Vec::new();
    let mut recorded: Vec<Recorded> = Vec::new();
    let mut owned: HashMap<&str, (PackageType, &str)> = HashMap::new();
    let mut declared: HashMap<(PackageType, &str), &[String]> = HashMap::new();
    for (i, layer) in layers.iter().enumerate() {
        let walk = &layer.scan.walk;
        for (entry, status) in walk.entries.iter().zip(&statuses[i]) {
            let EntryKind::Fs(entry_type) = entry.kind else {
                continue;
            };
            inventory.push(InventoryEntry {
                path: entry.path.clone(),
                entry_type,
                mode: entry.mode,
                uid: entry.uid,
                gid: entry.gid,
                size: entry.size,
                sha256: entry.sha256,
                link: entry.link.clone(),
                layer: i,
                status: *status,
            });
        }
        for member in &walk.members {
            archive_members.push(ArchiveMember {
                path: member.path.clone(),
                member: member.member.clone(),
                size: member.size,
                sha256: member.sha256,
                layer: i,
                status: status_of(i, &member.path),
            });
        }
        for skipped in &walk.skipped {
            not_scanned.push(NotScanned {
                location: location(i, &skipped.path, skipped.member.as_ref()),
                code: skipped.code,
                reason: skipped.reason.clone(),
            });
        }
        for located in &walk.outputs {
            match &located.output {
                Output::Finding(finding) => {
                    let mut finding = finding.clone();
                    let line = finding.location.take().and_then(|l| l.line);
                    finding.location = Some(Location {
                        line,
                        ..location(i, &located.path, located.member.as_ref())
                    });
                    findings.push(finding);
                }
                Output::Os(info) => {
                    os_candidates.push((i, info.clone(), status_of(i, &located.path)))
                }
                Output::Package(package) => recorded.push(Recorded {
                    layer: i,
                    path: &located.path,
                    member: located.member.as_ref(),
                    package,
                }),
                Output::Owns {
                    package_type,
                    name,
                    files,
                } => {
                    for file in files {
                        owned.insert(file, (*package_type, name));
                    }
                }
                Output::Licenses {
                    package_type,
                    name,
                    licenses,
                } => {
                    declared.insert((*package_type, name), licenses);
                }
            }
        }
    }
    let os = os_candidates
        .into_iter()
        .filter(|(_, _, status)| status.is_present())
        .min_by_key(|(layer, info, _)| {
            let rank = OS_FILES
                .iter()
                .position(|f| *f == info.source)
                .unwrap_or(OS_FILES.len());
            (rank, Reverse(*layer))
        })
        .map(|(_, info, _)| info);
    let mut packages = packages(recorded, &status_of, &summaries, os.as_ref());
    set_owners(&mut packages, &owned);
    for package in packages.iter_mut().filter(|p| p.licenses.is_empty()) {
        if let Some(licenses) = declared.get(&(package.package_type, package.name.as_str())) {
            package.licenses = licenses.to_vec();
        }
    }

    sort_findings(&mut findings);
    ImageReport {
        history: history(&header, layers.len()),
        name: header.name,
        tags: header.tags,
        config: header.config,
        config_digest: header.config_digest,
        manifest_digest: header.manifest_digest,
        platform: header.platform,
        os,
        layers: summaries,
        counts: Counts::of(&findings),
        findings,
        not_scanned,
        inventory,
        archive_members,
        packages,
        malware: None,
        suppressed: Vec::new(),
    }
}

/// Path → entry index, per layer (the last entry of a path wins, as in tar).
fn path_index<'a>(entries: &[&'a [crate::walk::LayerEntry]]) -> Vec<HashMap<&'a str, usize>> {
    entries
        .iter()
        .map(|entries| {
            entries
                .iter()
                .enumerate()
                .filter(|(_, e)| matches!(e.kind, EntryKind::Fs(_)))
                .map(|(i, e)| (e.path.as_str(), i))
                .collect()
        })
        .collect()
}

/// The result of a thread of the assembly. A panic there is a bug: let it be one here too.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Gives each language package whose record an installed OS package put there that package's
/// PURL as its owner, so that vulnerability matching can defer to the distribution's version.
fn set_owners(packages: &mut [Package], owned: &HashMap<&str, (PackageType, &str)>) {
    let installed: HashMap<(PackageType, &str), String> = packages
        .iter()
        .filter(|p| p.package_type.is_os())
        .filter(|p| p.location.as_ref().is_some_and(|l| l.status.is_present()))
        .map(|p| ((p.package_type, p.name.as_str()), p.purl.clone()))
        .collect();
    let mut owners = Vec::new();
    for (i, package) in packages.iter().enumerate() {
        let Some(location) = package.location.as_ref() else {
            continue;
        };
        if package.package_type.is_os() {
            continue;
        }
        if let Some(purl) = owned
            .get(location.path.as_str())
            .and_then(|&(t, name)| installed.get(&(t, name)))
        {
            owners.push((i, purl.clone()));
        }
    }
    for (i, purl) in owners {
        packages[i].owner = Some(purl);
    }
}

/// A package as a cataloger reported it: in which layer's copy of which file.
struct Recorded<'a> {
    layer: usize,
    path: &'a str,
    member: Option<&'a String>,
    package: &'a Package,
}

/// Follows every package-recording file (a dpkg status, a `package.json`, a jar's
/// `pom.properties`) through the layers that wrote it. A package that a later copy of the file
/// still lists was introduced by the first copy that listed it; one that a later copy no longer
/// lists was removed (or, under another version, replaced) by that layer; what the last copy lists
/// shares the fate of that file. Every package gets its PURL for the image's OS.
fn packages(
    recorded: Vec<Recorded>,
    status_of: &dyn Fn(usize, &str) -> FileStatus,
    summaries: &[LayerSummary],
    os: Option<&OsInfo>,
) -> Vec<Package> {
    // (path, member) → the copies of that file in layer order, each with what it lists.
    type Copies<'a> = Vec<(usize, Vec<&'a Package>)>;
    let mut files: BTreeMap<(&str, Option<&String>), Copies> = BTreeMap::new();
    for r in recorded {
        let copies = files.entry((r.path, r.member)).or_default();
        match copies.last_mut() {
            Some((layer, listed)) if *layer == r.layer => listed.push(r.package),
            _ => copies.push((r.layer, vec![r.package])),
        }
    }
    let same_name = |a: &Package, b: &Package| {
        a.package_type == b.package_type && a.group == b.group && a.name == b.name
    };
    let same =
        |a: &Package, b: &Package| same_name(a, b) && a.version == b.version && a.arch == b.arch;
    let place = |package: &Package, introduced: usize, path: &str, member, status| {
        let mut package = package.clone();
        package.purl = package.purl(os);
        package.location = Some(Location {
            layer: introduced,
            layer_digest: summaries[introduced].diff_id.clone(),
            path: path.to_string(),
            member,
            line: None,
            status,
            created_by: summaries[introduced].created_by.clone(),
        });
        package
    };
    let mut out = Vec::new();
    for ((path, member), copies) in files {
        let mut current: Vec<(&Package, usize)> = Vec::new();
        let mut last_layer = 0;
        for (layer, listed) in copies {
            let mut next = Vec::with_capacity(listed.len());
            for package in listed {
                let introduced = match current.iter().position(|(old, _)| same(old, package)) {
                    Some(i) => current.swap_remove(i).1,
                    None => layer,
                };
                next.push((package, introduced));
            }
            for (old, introduced) in current {
                let status = if next.iter().any(|(new, _)| same_name(old, new)) {
                    FileStatus::Replaced { layer }
                } else {
                    FileStatus::Removed { layer }
                };
                out.push(place(old, introduced, path, member.cloned(), status));
            }
            current = next;
            last_layer = layer;
        }
        let status = status_of(last_layer, path);
        for (package, introduced) in current {
            out.push(place(package, introduced, path, member.cloned(), status));
        }
    }
    out.sort_by(|a, b| {
        let key = |p: &Package| {
            (
                p.package_type,
                p.group.clone(),
                p.name.clone(),
                p.version.clone(),
                p.location
                    .as_ref()
                    .map(|l| (l.layer, l.path.clone(), l.member.clone())),
            )
        };
        key(a).cmp(&key(b))
    });
    out
}
