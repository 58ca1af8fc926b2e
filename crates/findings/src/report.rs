//! The report data types, serialised as the JSON report.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{MalwareReport, NotScannedCode, Package, Sha256};

/// Version of the JSON report schema (`docs/report.schema.json`).
pub const SCHEMA_VERSION: &str = "6";

/// How bad a finding is, in increasing order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str() == s)
            .ok_or(())
    }
}

/// What sort of problem a finding is; `--fail-on` selects by kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A file matches a malware or cryptominer signature.
    Malware,
    /// A potentially unwanted program: hacking tools, scanners, crackers, tunnels.
    Pua,
    /// An installed package has a known advisory.
    Vuln,
    /// A credential or private key is baked into the image.
    Secret,
    /// Risky image configuration or build history.
    Config,
    /// A name imitates a popular one.
    Typosquat,
    /// The image does not match its own digests (tampering or corruption).
    Integrity,
    /// A file is out of place (e.g. an executable under /tmp).
    Suspicious,
    /// An engine failed or timed out on a file: the file is not known to be clean.
    Engine,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Malware,
        Kind::Pua,
        Kind::Vuln,
        Kind::Secret,
        Kind::Config,
        Kind::Typosquat,
        Kind::Integrity,
        Kind::Suspicious,
        Kind::Engine,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Malware => "malware",
            Kind::Pua => "pua",
            Kind::Vuln => "vuln",
            Kind::Secret => "secret",
            Kind::Config => "config",
            Kind::Typosquat => "typosquat",
            Kind::Integrity => "integrity",
            Kind::Suspicious => "suspicious",
            Kind::Engine => "engine",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "vulnerability" | "vulnerabilities" => Ok(Kind::Vuln),
            _ => Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(()),
        }
    }
}

/// Whether a file is in the image's final filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum FileStatus {
    /// Present in the final filesystem.
    Present,
    /// Deleted (whiteout, opaque directory or a parent replaced) by the layer with this index.
    Removed { layer: usize },
    /// Overwritten by a file of the same path in the layer with this index.
    Replaced { layer: usize },
}

impl FileStatus {
    pub fn is_present(self) -> bool {
        self == FileStatus::Present
    }
}

impl fmt::Display for FileStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileStatus::Present => f.write_str("present"),
            FileStatus::Removed { layer } => write!(f, "removed in layer {layer}"),
            FileStatus::Replaced { layer } => write!(f, "replaced in layer {layer}"),
        }
    }
}

/// Where a finding is: a file of a layer, possibly a member of an archive inside that file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    /// Index of the layer that added the file (0 is the base layer).
    pub layer: usize,
    /// The layer's diff id (sha256 of its uncompressed tar); absent for a root filesystem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<String>,
    /// Path in the image filesystem, without a leading `/`.
    pub path: String,
    /// Member path inside archives within the file, nested levels joined by `!`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Line in the file (1-based), for findings in text such as secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Whether the file is still in the final filesystem.
    pub status: FileStatus,
    /// The build step (`created_by` of the history) that created the layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl Location {
    /// A location that says only a line: what an analyzer attaches to a finding when it knows
    /// the line, and the walker fills in the rest (layer, path, status, build step).
    pub fn at_line(line: u64) -> Location {
        Location {
            layer: 0,
            layer_digest: None,
            path: String::new(),
            member: None,
            line: Some(line),
            status: FileStatus::Present,
            created_by: None,
        }
    }

    /// `path` or `path!member`, as shown to users.
    pub fn display_path(&self) -> String {
        match &self.member {
            Some(member) => format!("{}!{member}", self.path),
            None => self.path.clone(),
        }
    }
}

/// One thing a scan found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable identifier of the rule or advisory (e.g. `STW-EXEC-TMP`, `CVE-2024-1234`).
    pub id: String,
    pub kind: Kind,
    pub severity: Severity,
    /// One line saying what was found.
    pub title: String,
    /// Where, when the finding is about a file; absent for image-wide findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What matched, already redacted where it could be sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The analyzer or engine that produced it.
    pub engine: String,
    /// For a vulnerability: the advisory's details and the package it matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<Box<VulnerabilityDetails>>,
}

/// What a vulnerability finding says beyond the common fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VulnerabilityDetails {
    /// Other ids of the advisory (CVE, GHSA, ...).
    pub aliases: Vec<String>,
    /// The package as installed.
    pub package: String,
    pub purl: String,
    pub installed_version: String,
    /// The OSV ecosystem it was matched in (`PyPI`, `Debian:12`).
    pub ecosystem: String,
    /// The name the advisory was looked up by: the source package for OS packages.
    pub matched_name: String,
    /// Versions that fix it; empty when no fix is available.
    pub fixed_versions: Vec<String>,
    /// The CVSS base score the severity comes from, with its vector (`9.8
    /// CVSS:3.1/AV:N/...`), or where the severity came from otherwise.
    pub severity_source: String,
}

/// Something that was deliberately not scanned, and why (a bound was hit, a format unsupported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotScanned {
    pub location: Location,
    pub code: NotScannedCode,
    pub reason: String,
}

/// The type of a filesystem entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryType {
    File,
    Dir,
    Symlink,
    Hardlink,
    Char,
    Block,
    Fifo,
}

/// One entry of the inventory: a file, directory or link of one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InventoryEntry {
    pub path: String,
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    /// Permission bits and setuid/setgid/sticky (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// `sha256:<hex>` of the content, for regular files (and hard links to them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
    /// Target of a symlink or hard link, as recorded (never followed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Layer that added this entry.
    pub layer: usize,
    pub status: FileStatus,
}

/// A member of an archive found inside the image (a jar's class, a tarball's file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ArchiveMember {
    /// Path of the outermost file in the image.
    pub path: String,
    /// Member path, nested levels joined by `!`.
    pub member: String,
    pub size: u64,
    pub sha256: Sha256,
    pub layer: usize,
    pub status: FileStatus,
}

/// One layer of the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LayerSummary {
    pub index: usize,
    /// The diff id: `sha256:` of the uncompressed layer tar, as computed (absent for a root
    /// filesystem).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<String>,
    /// `sha256:` of the blob as stored (compressed), as computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob_digest: Option<String>,
    /// `gzip`, `zstd` or `none`.
    pub compression: String,
    pub size: u64,
    pub uncompressed_size: u64,
    /// Number of entries (files, directories, links, whiteouts) in the layer.
    pub entries: usize,
    /// Whether the computed digests match the digests the image declares for this layer.
    pub integrity: Integrity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// The outcome of checking a layer against the digests its image declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Integrity {
    /// Every declared digest (manifest blob digest, config diff id) matches the content.
    Verified,
    /// At least one declared digest differs from the content: see the integrity findings.
    Mismatch,
    /// Nothing was declared to check against (a root filesystem).
    Undeclared,
}

/// The operating system the image is built on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OsInfo {
    /// `ID` of os-release (e.g. `debian`, `alpine`).
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// The file it was read from.
    pub source: String,
}

/// Counts of findings per severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl Counts {
    pub fn of(findings: &[Finding]) -> Counts {
        let mut counts = Counts::default();
        for finding in findings {
            *counts.get_mut(finding.severity) += 1;
        }
        counts
    }

    pub fn get(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    fn get_mut(&mut self, severity: Severity) -> &mut usize {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }
}

/// Everything found in one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImageReport {
    /// The name the image was scanned as (first repo tag, or the input's name).
    pub name: String,
    /// Every tag the input gives the image.
    pub tags: Vec<String>,
    /// Image id: `sha256:` of the config blob (absent for a root filesystem).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
    /// `sha256:` of the manifest, when the input has one as a blob (OCI layouts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// `os/architecture` from the image config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// How a container of the image runs, from the config (absent for a root filesystem).
    /// Secrets found in it are redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ImageConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
    pub layers: Vec<LayerSummary>,
    /// Every build step of the config's history, including those that made no layer.
    pub history: Vec<HistoryEntry>,
    pub counts: Counts,
    pub findings: Vec<Finding>,
    pub not_scanned: Vec<NotScanned>,
    /// Every entry of every layer, including those deleted or replaced later.
    pub inventory: Vec<InventoryEntry>,
    pub archive_members: Vec<ArchiveMember>,
    /// Every package the catalogers found (the SBOM), including those a later layer removed or
    /// replaced; each says which layer introduced it and whether it is still installed.
    pub packages: Vec<Package>,
    /// Per-file, per-engine malware verdicts; absent when no malware engine ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub malware: Option<MalwareReport>,
    /// Findings an ignore rule, `--ignore-unfixed` or a VEX statement suppressed: listed with
    /// the reason, never counted, never blocking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Suppressed>,
}

/// A finding that the policy suppressed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Suppressed {
    pub finding: Finding,
    /// What suppressed it: `ignore` (a rule of the policy file), `ignore-unfixed` or `vex` (an
    /// OpenVEX statement).
    pub by: String,
    /// The ignore rule's reason, or the VEX statement's status, justification and document.
    pub reason: String,
}

/// What the policy decided about the scan: the same whatever the report format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PolicyOutcome {
    /// The `--fail-on` selector in force (`high`, `malware,vuln:critical`, ...).
    pub fail_on: String,
    /// Whether engine failures block (the default: fail closed).
    pub engine_failures_block: bool,
    /// Whether a finding blocks: the exit code is 1.
    pub blocked: bool,
    /// How many findings block.
    pub blocking: usize,
    /// One paragraph: counts per kind and severity, what was suppressed, what blocked.
    pub summary: String,
    /// Ignore rules that have expired (and so no longer apply), and other things to fix in the
    /// policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Findings in report order: most severe first, then by layer, path and member, then id.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            (
                std::cmp::Reverse(f.severity),
                f.location
                    .as_ref()
                    .map(|l| (l.layer, l.path.clone(), l.member.clone())),
                f.id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

impl ImageReport {
    /// Adds findings made after the scan (vulnerability matching), in report order, and
    /// counts them.
    pub fn add_findings(&mut self, findings: Vec<Finding>) {
        self.findings.extend(findings);
        sort_findings(&mut self.findings);
        self.counts = Counts::of(&self.findings);
    }
}

/// The run configuration an image declares (the config's `config` object, as `docker inspect`
/// shows it), in the report's words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImageConfig {
    /// `User`: the user (and group) processes run as; absent means root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `Env`: `KEY=value` entries.
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// `ExposedPorts`: `port/protocol` entries.
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// `Volumes`: mount points.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// `Healthcheck.Test` (`["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`); absent when the
    /// image declares none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Vec<String>>,
}

/// One build step from the image config's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// True when the step made no layer (ENV, CMD, ...).
    pub empty_layer: bool,
    /// The layer the step made, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
}

/// The whole JSON report of one `stowaway scan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub schema_version: String,
    pub tool: Tool,
    /// What was scanned, as given on the command line.
    pub input: String,
    /// Every analyzer that looked at the files, with the version of its logic.
    pub analyzers: Vec<AnalyzerInfo>,
    /// The vulnerability database the packages were matched against, like an antivirus'
    /// definitions date; says so when vulnerabilities were not checked.
    pub vulnerability_database: VulnerabilityDatabase,
    pub images: Vec<ImageReport>,
    /// What the policy decided; absent from reports made without one (`stowaway sbom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyOutcome>,
}

impl Report {
    /// Whether `finding` blocks under the report's policy: an engine failure blocks exactly
    /// when engine failures block (fail closed, unless `--allow-engine-failure`), any other
    /// finding when it matches `--fail-on`. False without a policy.
    pub fn is_blocking(&self, finding: &Finding) -> bool {
        let Some(policy) = &self.policy else {
            return false;
        };
        if finding.kind == Kind::Engine {
            return policy.engine_failures_block;
        }
        policy
            .fail_on
            .parse::<crate::FailOn>()
            .is_ok_and(|fail_on| fail_on.matches(finding))
    }
}

/// Whether and against what the packages were matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VulnerabilityDatabase {
    /// Whether vulnerabilities were checked at all.
    pub checked: bool,
    /// The database file, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// RFC 3339 time of its last import or update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// Whole days since then, at scan time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_days: Option<u64>,
    /// Advisories it holds (withdrawn ones excluded).
    pub records: usize,
    /// Why vulnerabilities were not checked, or a warning that the database is old.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An analyzer (or engine) that took part in the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnalyzerInfo {
    pub id: String,
    pub version: u32,
    /// Version and date of its signatures or lists, like an antivirus' definitions date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definitions: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
}
