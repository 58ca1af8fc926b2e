//! Look-alike names: the image's own name against the official images and trusted names, and
//! the npm and PyPI packages inside against the most popular ones (`stowaway-typosquat`).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use stowaway_findings::{Finding, ImageReport, PackageType};
use stowaway_typosquat::{Ecosystem, ImageNames, PackageNames};

use crate::checks::{Enabled, TYPOSQUAT_IMAGE, TYPOSQUAT_PACKAGE};
use crate::finding;

/// The name lists, and the name the image is checked under.
pub struct Names {
    pub images: ImageNames,
    /// `--image-name`: checked instead of the tags the input gives.
    pub image_name: Option<String>,
    /// The bundled popular packages, indexed when an image first has a package of the
    /// ecosystem (indexing 5,000 names takes tens of milliseconds).
    npm: OnceLock<PackageNames>,
    pypi: OnceLock<PackageNames>,
}

impl Names {
    /// The lists shipped with the tool.
    pub fn bundled(image_name: Option<String>) -> Names {
        Names {
            images: ImageNames::bundled(),
            image_name,
            npm: OnceLock::new(),
            pypi: OnceLock::new(),
        }
    }

    /// Indexes the bundled package lists now rather than when an image first needs them: on
    /// another thread while layers are walked, this takes their tens of milliseconds off the end
    /// of a scan.
    pub fn prepare(&self) {
        self.npm();
        self.pypi();
    }

    fn npm(&self) -> &PackageNames {
        self.npm
            .get_or_init(|| PackageNames::bundled(Ecosystem::Npm))
    }

    fn pypi(&self) -> &PackageNames {
        self.pypi
            .get_or_init(|| PackageNames::bundled(Ecosystem::PyPI))
    }

    pub(crate) fn check(&self, image: &ImageReport, enabled: &Enabled) -> Vec<Finding> {
        let mut findings = Vec::new();
        if enabled.has(&TYPOSQUAT_IMAGE) {
            let references = match &self.image_name {
                Some(name) => std::slice::from_ref(name),
                None => image.tags.as_slice(),
            };
            let mut seen = BTreeSet::new();
            for reference in references {
                if let Some(lookalike) = self.images.check(reference)
                    && seen.insert(lookalike.imitates.clone())
                {
                    findings.push(finding(
                        &TYPOSQUAT_IMAGE,
                        format!(
                            "image name {reference} imitates the official image {}: {}",
                            lookalike.imitates, lookalike.explanation
                        ),
                        Some(lookalike.technique.to_string()),
                        None,
                    ));
                }
            }
        }
        if enabled.has(&TYPOSQUAT_PACKAGE) {
            let mut seen = BTreeSet::new();
            for package in &image.packages {
                let (list, ecosystem) = match package.package_type {
                    PackageType::Npm => (self.npm(), "npm"),
                    PackageType::Python => (self.pypi(), "PyPI"),
                    _ => continue,
                };
                if !seen.insert((ecosystem, package.name.as_str())) {
                    continue;
                }
                if let Some(lookalike) = list.check(&package.name) {
                    findings.push(finding(
                        &TYPOSQUAT_PACKAGE,
                        format!(
                            "{ecosystem} package {} {} imitates the popular {}: {}",
                            package.name,
                            package.version,
                            lookalike.imitates,
                            lookalike.explanation
                        ),
                        Some(lookalike.technique.to_string()),
                        package.location.clone(),
                    ));
                }
            }
        }
        findings
    }
}
