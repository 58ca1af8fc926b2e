//! OpenVEX documents (<https://github.com/openvex/spec>): v0.2.0 as `vexctl` writes it, and the
//! older `https://openvex.dev/ns` (v0.0.1) shape with plain-string vulnerabilities, products
//! and statement-level subcomponents.
//!
//! A `not_affected` or `fixed` statement suppresses a vulnerability finding when the finding's
//! id or an alias is the statement's vulnerability (name, `@id` or alias) and the finding's
//! package purl is a product or subcomponent of the statement. Of the statements that apply to
//! a finding, the latest (by timestamp, then by document and statement order) decides.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use stowaway_findings::{Finding, ImageReport, Kind};

use crate::date::parse_timestamp;
use crate::error::PolicyError;
use crate::purl::Purl;

/// The statuses OpenVEX defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl Status {
    fn parse(s: &str) -> Option<Status> {
        match s {
            "not_affected" => Some(Status::NotAffected),
            "affected" => Some(Status::Affected),
            "fixed" => Some(Status::Fixed),
            "under_investigation" => Some(Status::UnderInvestigation),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Status::NotAffected => "not_affected",
            Status::Affected => "affected",
            Status::Fixed => "fixed",
            Status::UnderInvestigation => "under_investigation",
        }
    }
}

/// A product of a statement: its purls (from `@id` and `identifiers.purl`) and those of its
/// subcomponents. Products named otherwise (a bare IRI, a hash) never match a package.
#[derive(Debug, Clone)]
struct Product {
    purls: Vec<Purl>,
    subcomponents: Vec<Purl>,
}

#[derive(Debug, Clone)]
struct Statement {
    /// The vulnerability's name, `@id` and aliases.
    vulnerability: Vec<String>,
    products: Vec<Product>,
    status: Status,
    /// Why the finding is suppressed, when the status suppresses.
    reason: String,
    /// Timestamp (nanoseconds since the epoch), then document index, then statement index.
    order: (i128, usize, usize),
}

/// Every statement of every VEX document, in the order they take effect.
#[derive(Debug, Clone, Default)]
pub struct Vex {
    statements: Vec<Statement>,
}

impl Vex {
    /// Reads the documents; their order breaks ties between statements of equal timestamps.
    /// Reasons name each document relative to `cwd` when it is under it.
    pub fn read(paths: &[PathBuf], cwd: &Path) -> Result<Vex, PolicyError> {
        let mut statements = Vec::new();
        for (index, path) in paths.iter().enumerate() {
            let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
                path: path.clone(),
                source,
            })?;
            let shown = path.strip_prefix(cwd).unwrap_or(path);
            let document =
                parse_document(&text, index, shown).map_err(|message| PolicyError::Vex {
                    path: path.clone(),
                    message,
                })?;
            statements.extend(document);
        }
        statements.sort_by_key(|statement| statement.order);
        Ok(Vex { statements })
    }

    /// Why `finding` of `image` is suppressed, when the statement that decides it is
    /// `not_affected` or `fixed`.
    pub fn suppresses(&self, image: &ImageReport, finding: &Finding) -> Option<String> {
        let details = finding
            .vulnerability
            .as_deref()
            .filter(|_| finding.kind == Kind::Vuln)?;
        let package = Purl::parse(&details.purl)?;
        let ids: Vec<&str> = std::iter::once(finding.id.as_str())
            .chain(details.aliases.iter().map(String::as_str))
            .collect();
        let deciding = self.statements.iter().rev().find(|statement| {
            statement
                .vulnerability
                .iter()
                .any(|name| ids.iter().any(|id| id.eq_ignore_ascii_case(name)))
                && statement
                    .products
                    .iter()
                    .any(|product| product.covers(image, &package))
        })?;
        matches!(deciding.status, Status::NotAffected | Status::Fixed)
            .then(|| deciding.reason.clone())
    }
}

impl Product {
    /// Whether the product, in `image`, covers the installed `package`.
    fn covers(&self, image: &ImageReport, package: &Purl) -> bool {
        if self.subcomponents.iter().any(|sub| sub.covers(package)) {
            return self
                .purls
                .iter()
                .all(|purl| !purl.is_image() || is_this_image(purl, image));
        }
        self.purls.iter().any(|purl| {
            if purl.is_image() {
                self.subcomponents.is_empty() && is_this_image(purl, image)
            } else {
                purl.covers(package)
            }
        })
    }
}

/// Whether an image purl names `image`: any image when it has no version, else the version
/// must be the image's manifest or config digest, or one of its tags.
fn is_this_image(purl: &Purl, image: &ImageReport) -> bool {
    let Some(version) = &purl.version else {
        return true;
    };
    image.manifest_digest.as_ref() == Some(version)
        || image.config_digest.as_ref() == Some(version)
        || image
            .tags
            .iter()
            .chain(std::iter::once(&image.name))
            .any(|tag| tag.rsplit_once(':').is_some_and(|(_, t)| t == version))
}

fn parse_document(text: &str, index: usize, path: &Path) -> Result<Vec<Statement>, String> {
    let value: Value = serde_json::from_str(text).map_err(|err| format!("not JSON: {err}"))?;
    let document = value.as_object().ok_or("not a JSON object")?;
    let context = document
        .get("@context")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !context.starts_with("https://openvex.dev/ns") {
        return Err(format!(
            "`@context` is {}, not https://openvex.dev/ns/v0.2.0 (or https://openvex.dev/ns)",
            document
                .get("@context")
                .map_or_else(|| "missing".into(), Value::to_string)
        ));
    }
    let document_time = timestamp(document, "document")?;
    let statements = document
        .get("statements")
        .and_then(Value::as_array)
        .ok_or("`statements` is missing or not a list")?;
    statements
        .iter()
        .enumerate()
        .map(|(i, statement)| {
            let object = statement
                .as_object()
                .ok_or_else(|| format!("statement {} is not an object", i + 1))?;
            parse_statement(object, path)
                .and_then(|mut statement| {
                    let time = timestamp(object, "statement")?.or(document_time);
                    statement.order = (time.unwrap_or(i128::MIN), index, i);
                    Ok(statement)
                })
                .map_err(|message| format!("statement {}: {message}", i + 1))
        })
        .collect()
}

fn timestamp(object: &Map<String, Value>, what: &str) -> Result<Option<i128>, String> {
    match object.get("timestamp") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_timestamp(s)
            .map(Some)
            .ok_or_else(|| format!("{what} `timestamp` '{s}' is not an RFC 3339 time")),
        Some(other) => Err(format!("{what} `timestamp` is {other}, not a string")),
    }
}

fn parse_statement(object: &Map<String, Value>, path: &Path) -> Result<Statement, String> {
    let vulnerability = match object.get("vulnerability") {
        Some(Value::String(name)) => vec![name.clone()],
        Some(Value::Object(v)) => {
            let mut names: Vec<String> = ["name", "@id"]
                .iter()
                .filter_map(|key| v.get(*key).and_then(Value::as_str).map(str::to_string))
                .collect();
            names.extend(strings(v.get("aliases"), "vulnerability `aliases`")?);
            names
        }
        _ => return Err("`vulnerability` is missing (a name or an object with `name`)".into()),
    };
    if vulnerability.is_empty() {
        return Err("`vulnerability` has neither `name` nor `@id`".into());
    }
    let status_text = object
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let status = Status::parse(status_text).ok_or_else(|| {
        format!(
            "`status` is {}, not one of not_affected, affected, fixed, under_investigation",
            object
                .get("status")
                .map_or_else(|| "missing".into(), Value::to_string)
        )
    })?;
    let shared_subcomponents = components(object.get("subcomponents"), "subcomponents")?;
    let products = match object.get("products") {
        Some(Value::Array(products)) if !products.is_empty() => products
            .iter()
            .map(|product| {
                let mut subcomponents = shared_subcomponents.clone();
                if let Value::Object(p) = product {
                    subcomponents.extend(components(p.get("subcomponents"), "subcomponents")?);
                }
                Ok(Product {
                    purls: component_purls(product, "products")?,
                    subcomponents,
                })
            })
            .collect::<Result<Vec<_>, String>>()?,
        _ => return Err("`products` is missing or empty".into()),
    };
    let text = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    let mut reason = status.as_str().to_string();
    if let Some(justification) = text("justification") {
        reason.push_str(&format!(" ({justification})"));
    }
    if let Some(statement) = text("impact_statement").or_else(|| text("status_notes")) {
        reason.push_str(&format!(": {}", statement.trim()));
    }
    reason.push_str(&format!(" — {}", path.display()));
    Ok(Statement {
        vulnerability,
        products,
        status,
        reason,
        order: (0, 0, 0),
    })
}

/// The purls of a list of components (strings, or objects with `@id` and `identifiers`).
fn components(value: Option<&Value>, what: &str) -> Result<Vec<Purl>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items
            .iter()
            .map(|item| component_purls(item, what))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect()),
        Some(other) => Err(format!("`{what}` is {other}, not a list")),
    }
}

fn component_purls(component: &Value, what: &str) -> Result<Vec<Purl>, String> {
    let ids: Vec<&str> = match component {
        Value::String(id) => vec![id],
        Value::Object(c) => {
            let identifiers = c.get("identifiers").and_then(|i| i.get("purl"));
            let ids: Vec<&str> = [c.get("@id"), identifiers]
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if ids.is_empty() {
                return Err(format!(
                    "an entry of `{what}` has neither `@id` nor `identifiers.purl`"
                ));
            }
            ids
        }
        other => {
            return Err(format!(
                "an entry of `{what}` is {other}, not a string or an object"
            ));
        }
    };
    Ok(ids.into_iter().filter_map(Purl::parse).collect())
}

fn strings(value: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what} has {item}, not a string"))
            })
            .collect(),
        Some(other) => Err(format!("{what} is {other}, not a list")),
    }
}
