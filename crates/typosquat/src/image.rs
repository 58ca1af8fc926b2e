//! Look-alike image references: the checks of [`ImageNames`], in order.
//!
//! 1. The reference must parse ([`ImageReference`]); anything else is not checked.
//! 2. A trusted image, namespace or registry (the user's list) is never flagged.
//! 3. The registry host, when one is written and it is not a well-known registry or a subdomain
//!    of one, is compared with [`KNOWN_REGISTRIES`]: same look-alike skeleton, within one edit
//!    (two for hosts longer than seven characters), containing a known host (`docker.io.evil.com`)
//!    or with "docker" or "microsoft" in its registrable label (`dockerhub.io`).
//! 4. The namespace's first component is compared with the namespaces worth imitating on the
//!    same registry: `library` and the trusted ones on Docker Hub, the trusted ones elsewhere.
//! 5. The repository is compared with the official images. On Docker Hub's `library/` every
//!    technique applies, added words included (`openjdk-official`); under any other namespace an
//!    exact official name is [`Technique::OfficialNameElsewhere`] on Docker Hub and fine on other
//!    registries (`quay.io/prometheus/prometheus` is nobody's typo), while the character-level
//!    techniques apply everywhere: a near miss like `ghcr.io/someone/ngimx` is a typo of an
//!    official image wherever it is published. Added words are not flagged outside `library/`,
//!    where names like `jwilder/nginx-proxy` are the norm.
//!
//! Edit bounds, by the length of the part of the official name that differs (the whole name,
//! or the words of it not shared, as in `eclipse-temurn`): in `library/`, none up to three
//! characters (`gcc`, `php`: one edit gives another real word), one for four or five (`node`,
//! `nginx`), two from six on (`ubuntu`, `openjdk`). Elsewhere, where a near miss is somebody's
//! real image, four-character names get none (`gcr.io/distroless/base` is no typo of `bash`).

use std::collections::HashMap;

use crate::confusable::{describe_difference, skeleton};
use crate::distance::osa_within;
use crate::index::{AddedWords, NameIndex, Query, Rules};
use crate::lists::bundled_official_images;
use crate::reference::{DOCKER_HUB_HOSTS, ImageReference};
use crate::{Lookalike, Technique};

/// The registry hosts worth imitating: Docker Hub's, GitHub's, Quay, Google's, Microsoft's,
/// Amazon's public gallery and the Kubernetes project's.
pub const KNOWN_REGISTRIES: [&str; 9] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "mcr.microsoft.com",
    "public.ecr.aws",
    "registry.k8s.io",
];

/// Legitimate registries near a known one in edit distance, and the domains of the owners of the
/// known ones (a subdomain of any of these is never a look-alike).
const LEGITIMATE_DOMAINS: [&str; 12] = [
    "docker.com",
    "microsoft.com",
    "k8s.io",
    "icr.io",
    "nvcr.io",
    "lscr.io",
    "cgr.dev",
    "pkg.dev",
    "azurecr.io",
    "amazonaws.com",
    "redhat.io",
    "redhat.com",
];

/// Brands whose name in a domain's registrable label imitates their registry
/// (`dockerhub.io`, `d0cker-registry.com`), with that registry. Only long brands: short ones
/// (`gcr`, `ecr`) occur inside ordinary words.
const BRANDS: [(&str, &str); 2] = [("docker", "docker.io"), ("microsoft", "mcr.microsoft.com")];

/// Edit bounds in `library/`, where a near miss can only be a mistake.
fn library_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=5 => 1,
        _ => 2,
    }
}

/// Edit bounds elsewhere, where a near miss is someone's real image: none for four characters
/// (`gcr.io/distroless/base` is no typo of `bash`).
fn elsewhere_edits(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5 => 1,
        _ => 2,
    }
}

fn image_rules() -> Rules {
    Rules {
        max_edits: library_edits,
        min_word_len: 5,
    }
}

/// An entry of the trusted list, as a canonical `registry[/path]` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Trusted {
    registry: String,
    /// Empty for a whole registry.
    path: String,
}

impl Trusted {
    /// `bitnami`, `bitnami/*`, `bitnami/redis`, `docker.io/bitnami`, `ghcr.io/myorg/*` or
    /// `registry.example.com`; `None` for an entry that cannot match any reference.
    fn parse(entry: &str) -> Option<Self> {
        let entry = entry.trim().trim_end_matches("/*").trim_end_matches('/');
        let entry = entry.to_ascii_lowercase();
        let (first, rest) = match entry.split_once('/') {
            Some((first, rest)) => (first, rest),
            None => (entry.as_str(), ""),
        };
        if first.is_empty() {
            return None;
        }
        let is_host = first.contains(['.', ':']) || first == "localhost";
        let (registry, path) = if is_host {
            let registry = if DOCKER_HUB_HOSTS.contains(&first) {
                "docker.io"
            } else {
                first
            };
            (registry.to_string(), rest.to_string())
        } else {
            ("docker.io".to_string(), entry.clone())
        };
        Some(Trusted { registry, path })
    }

    fn covers(&self, registry: &str, path: &str) -> bool {
        registry == self.registry
            && (self.path.is_empty()
                || path == self.path
                || path
                    .strip_prefix(&self.path)
                    .is_some_and(|rest| rest.starts_with('/')))
    }

    /// The namespace owner this entry trusts, if it names one.
    fn owner(&self) -> Option<&str> {
        self.path
            .split('/')
            .next()
            .filter(|owner| !owner.is_empty())
    }
}

/// Checks image references against Docker Hub's official images and a list of trusted images,
/// namespaces and registries.
#[derive(Debug, Clone)]
pub struct ImageNames {
    official: NameIndex,
    trusted: Vec<Trusted>,
    /// Per registry, the namespace owners worth imitating there.
    owners: HashMap<String, NameIndex>,
}

impl ImageNames {
    /// The bundled official images, nothing trusted.
    pub fn bundled() -> Self {
        ImageNames::new(bundled_official_images(), Vec::new())
    }

    /// `official` are the repository names of Docker Hub's `library/` namespace (`nginx`);
    /// `trusted` are entries in these forms, case-insensitive:
    ///
    /// - `bitnami` or `bitnami/*`: a Docker Hub namespace;
    /// - `bitnami/redis`: one Docker Hub image;
    /// - `ghcr.io/myorg` or `ghcr.io/myorg/*`, `ghcr.io/myorg/tool`: the same on another registry;
    /// - `registry.example.com`: a whole registry.
    ///
    /// Trusted images are never flagged, and look-alikes of trusted namespaces are.
    pub fn new(official: Vec<String>, trusted: Vec<String>) -> Self {
        let official = official
            .into_iter()
            .map(|name| name.trim().to_ascii_lowercase())
            .collect();
        let trusted: Vec<Trusted> = trusted.iter().filter_map(|e| Trusted::parse(e)).collect();
        let mut owners: HashMap<String, Vec<String>> = HashMap::new();
        owners
            .entry("docker.io".to_string())
            .or_default()
            .push("library".to_string());
        for entry in &trusted {
            if let Some(owner) = entry.owner() {
                owners
                    .entry(entry.registry.clone())
                    .or_default()
                    .push(owner.to_string());
            }
        }
        ImageNames {
            official: NameIndex::new(official, image_rules()),
            trusted,
            owners: owners
                .into_iter()
                .map(|(registry, names)| (registry, NameIndex::new(names, image_rules())))
                .collect(),
        }
    }

    /// Whether `name` is one of the official images' repository names.
    pub fn is_official(&self, name: &str) -> bool {
        self.official.contains(name)
    }

    /// The look-alike that `reference` is, if any; `None` also for a reference that does not
    /// parse (see [`ImageReference::parse`] for the error).
    pub fn check(&self, reference: &str) -> Option<Lookalike> {
        let image = ImageReference::parse(reference).ok()?;
        let registry = image.registry();
        let path = image.path();
        if self.trusted.iter().any(|t| t.covers(&registry, &path)) {
            return None;
        }
        if let Some(host) = image.host()
            && !image.is_docker_hub()
            && let Some(found) = self.check_host(reference, host)
        {
            return Some(found);
        }
        if let Some(found) = self.check_owner(reference, &image, &registry) {
            return Some(found);
        }
        let repository = image.repository();
        let namespace = image.namespace();
        let in_library = image.is_docker_hub() && namespace == "library";
        if !in_library && image.is_docker_hub() && self.official.contains(repository) {
            return Some(Lookalike {
                name: reference.to_string(),
                imitates: repository.to_string(),
                technique: Technique::OfficialNameElsewhere,
                explanation: format!(
                    "{path:?} imitates the official image {repository:?}: its exact name under \
                     the namespace {namespace:?}, which is not Docker's library/ and not trusted"
                ),
            });
        }
        let query = if in_library {
            Query {
                added_words: AddedWords::Any,
                max_edits: library_edits,
                end_edits: true,
            }
        } else {
            Query {
                added_words: AddedWords::Never,
                max_edits: elsewhere_edits,
                end_edits: false,
            }
        };
        let found = self.official.find(repository, query, |_| true)?;
        Some(Lookalike::new(
            reference,
            repository,
            "the official image",
            self.official.name(found.target),
            found.technique,
            &found.detail,
        ))
    }

    /// The namespace owner (first path component) as a look-alike of one worth imitating.
    fn check_owner(
        &self,
        reference: &str,
        image: &ImageReference,
        registry: &str,
    ) -> Option<Lookalike> {
        let path = image.path();
        let (owner, _) = path.split_once('/')?;
        let owners = self.owners.get(registry)?;
        let query = Query {
            added_words: AddedWords::Never,
            max_edits: elsewhere_edits,
            end_edits: false,
        };
        let found = owners.find(owner, query, |_| true)?;
        let target = owners.name(found.target);
        let subject = if target == "library" {
            "Docker Hub's official namespace"
        } else {
            "the trusted namespace"
        };
        Some(Lookalike::new(
            reference,
            owner,
            subject,
            target,
            found.technique,
            &found.detail,
        ))
    }

    /// The registry host as a look-alike of a well-known one.
    fn check_host(&self, reference: &str, host: &str) -> Option<Lookalike> {
        let host = host.to_ascii_lowercase();
        let within = |domain: &str| {
            host == domain
                || host
                    .strip_suffix(domain)
                    .is_some_and(|rest| rest.ends_with('.'))
        };
        let is_address =
            host.starts_with('[') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if !host.contains('.')
            || is_address
            || KNOWN_REGISTRIES.iter().any(|k| within(k))
            || LEGITIMATE_DOMAINS.iter().any(|d| within(d))
        {
            return None;
        }
        let host_skeleton = skeleton(&host);
        let found = KNOWN_REGISTRIES.iter().find_map(|&known| {
            let bound = if known.len() > 7 { 2 } else { 1 };
            if host_skeleton == skeleton(known) {
                Some((
                    known,
                    format!(
                        "look-alike characters, {}",
                        describe_difference(&host, known)
                    ),
                ))
            } else if let Some(d) = osa_within(host.as_bytes(), known.as_bytes(), bound) {
                let edits = if d == 1 { "1 edit" } else { "2 edits" };
                Some((
                    known,
                    format!("{edits} away, {}", describe_difference(&host, known)),
                ))
            } else if host.contains(known) {
                Some((known, format!("contains {known:?} but is another domain")))
            } else {
                None
            }
        });
        let found = found.or_else(|| {
            let labels: Vec<&str> = host.split('.').collect();
            let registrable = skeleton(labels.get(labels.len().wrapping_sub(2))?);
            BRANDS.iter().find_map(|&(brand, known)| {
                registrable
                    .contains(&skeleton(brand))
                    .then(|| (known, format!("its domain uses the name {brand:?}")))
            })
        });
        let (known, detail) = found?;
        Some(Lookalike {
            name: reference.to_string(),
            imitates: known.to_string(),
            technique: Technique::RegistryHost,
            explanation: format!("registry host {host:?} imitates {known:?}: {detail}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(reference: &str) -> Option<Technique> {
        ImageNames::bundled().check(reference).map(|l| l.technique)
    }

    #[test]
    fn required_cases() {
        let names = ImageNames::bundled();
        for flagged in [
            "0penjdk",
            "golang1",
            "ubunto",
            "opendjk",
            "library/nignx",
            "someuser/python",
        ] {
            assert!(
                names.check(flagged).is_some(),
                "{flagged} should be flagged"
            );
        }
        let digest = format!(
            "docker.io/library/python@sha256:{}",
            "0123456789abcdef".repeat(4)
        );
        for fine in [
            "openjdk",
            "golang",
            "ubuntu",
            "nginx",
            "python",
            "docker.io/library/node",
            "node:20-alpine",
            digest.as_str(),
        ] {
            assert_eq!(names.check(fine), None, "{fine} should not be flagged");
        }
    }

    #[test]
    fn required_cases_techniques_and_explanations() {
        let names = ImageNames::bundled();
        let found = names.check("0penjdk:17").into_iter().next();
        assert_eq!(
            found,
            Some(Lookalike {
                name: "0penjdk:17".into(),
                imitates: "openjdk".into(),
                technique: Technique::Homoglyph,
                explanation: r#""0penjdk" imitates the official image "openjdk": look-alike characters ("0" in place of "o")"#.into(),
            })
        );
        assert_eq!(check("golang1"), Some(Technique::AddedWord));
        assert_eq!(
            check("ubunto"),
            Some(Technique::EditDistance { distance: 1 })
        );
        assert_eq!(
            check("opendjk"),
            Some(Technique::EditDistance { distance: 1 })
        );
        assert_eq!(
            check("library/nignx"),
            Some(Technique::EditDistance { distance: 1 })
        );
        let elsewhere = names.check("someuser/python:3.12");
        assert_eq!(
            elsewhere.as_ref().map(|l| l.technique),
            Some(Technique::OfficialNameElsewhere)
        );
        assert_eq!(
            elsewhere.as_ref().map(|l| l.imitates.as_str()),
            Some("python")
        );
    }

    #[test]
    fn no_official_image_flags_another() {
        let names = ImageNames::bundled();
        for official in bundled_official_images() {
            for reference in [
                official.clone(),
                format!("library/{official}"),
                format!("docker.io/library/{official}:latest"),
                format!("index.docker.io/{official}@sha256:{}", "a".repeat(64)),
            ] {
                assert_eq!(names.check(&reference), None, "{reference}");
            }
        }
    }

    #[test]
    fn each_technique_positive_and_negative() {
        // Edit distance: within the bound for the official name's length, not beyond it.
        assert_eq!(
            check("ubunt"),
            Some(Technique::EditDistance { distance: 1 })
        );
        assert_eq!(
            check("ubnutu"),
            Some(Technique::EditDistance { distance: 1 })
        );
        assert_eq!(
            check("wordpres"),
            Some(Technique::EditDistance { distance: 1 })
        );
        assert_eq!(
            check("elastcsearh"),
            Some(Technique::EditDistance { distance: 2 })
        );
        assert_eq!(check("ubxxxu"), None); // 3 edits
        assert_eq!(check("gcd"), None); // gcc has no edit budget
        assert_eq!(
            check("nodes"),
            Some(Technique::EditDistance { distance: 1 })
        );
        assert_eq!(check("someuser/nodes"), None); // outside library/, node has no budget
        assert_eq!(check("nodx1"), None); // 2 edits from node, whose bound is 1
        // Keyboard neighbour.
        assert_eq!(check("ngimx"), Some(Technique::KeyboardNeighbour));
        assert_eq!(check("redos"), Some(Technique::KeyboardNeighbour));
        assert_eq!(
            check("redzs"),
            Some(Technique::EditDistance { distance: 1 })
        ); // z is not next to i
        // Homoglyphs.
        assert_eq!(check("rnysql"), Some(Technique::Homoglyph));
        assert_eq!(check("vvordpress"), Some(Technique::Homoglyph));
        assert_eq!(check("clebian"), Some(Technique::Homoglyph));
        assert_eq!(check("5o1r"), Some(Technique::Homoglyph));
        assert_eq!(check("a1pine"), Some(Technique::Homoglyph));
        assert_eq!(
            check("alp1ne3"),
            Some(Technique::EditDistance { distance: 2 })
        );
        assert_eq!(check("php1"), Some(Technique::AddedWord));
        assert_eq!(check("p4p"), None);
        // Separators.
        assert_eq!(check("hello_world"), Some(Technique::Separator));
        assert_eq!(check("helloworld"), Some(Technique::Separator));
        assert_eq!(check("mongoexpress"), Some(Technique::Separator));
        assert_eq!(check("eclipse.temurin"), Some(Technique::Separator));
        assert_eq!(check("mongo-express"), None);
        // Swapped words.
        assert_eq!(check("jdk-open"), Some(Technique::SwappedWords));
        assert_eq!(check("temurin-eclipse"), Some(Technique::SwappedWords));
        assert_eq!(check("world-hello"), Some(Technique::SwappedWords));
        assert_eq!(check("base-r"), Some(Technique::SwappedWords));
        assert_eq!(check("jdk-closed"), None);
        // Added words: in library/ only.
        assert_eq!(check("openjdk-official"), Some(Technique::AddedWord));
        assert_eq!(check("golang-latest"), Some(Technique::AddedWord));
        assert_eq!(check("python3-official"), Some(Technique::AddedWord));
        assert_eq!(check("nginx2"), Some(Technique::AddedWord));
        assert_eq!(check("official-nginx"), Some(Technique::AddedWord));
        assert_eq!(check("jwilder/nginx-proxy"), None);
        assert_eq!(check("alternative"), None); // "alt" needs a word boundary
        // Official name elsewhere.
        assert_eq!(
            check("someuser/golang"),
            Some(Technique::OfficialNameElsewhere)
        );
        assert_eq!(
            check("docker.io/circleci/node:20"),
            Some(Technique::OfficialNameElsewhere)
        );
        assert_eq!(check("library/golang"), None);
        assert_eq!(check("ghcr.io/someorg/golang"), None);
        // Registry hosts.
        for host in [
            "d0cker.io",
            "dockerhub.io",
            "docker.io.evil.com",
            "gcr.i0",
            "docker.lo",
            "dokcer.io",
            "qauy.io",
            "ghrc.io",
            "mcr.rnicrosoft.com",
            "rnicrosoft-cdn.net",
            "registry.k8.io",
            "public.ecr.aw",
            "index.dockr.io",
        ] {
            assert_eq!(
                check(&format!("{host}/library/nginx")),
                Some(Technique::RegistryHost),
                "{host}"
            );
        }
        for host in [
            "us.gcr.io",
            "k8s.gcr.io",
            "icr.io",
            "nvcr.io",
            "lscr.io",
            "cgr.dev",
            "europe-docker.pkg.dev",
            "myregistry.azurecr.io",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "registry.gitlab.com",
            "docker.elastic.co",
            "registry.example.com",
            "localhost:5000",
            "10.0.0.1:5000",
            "[::1]:5000",
            "quay.io",
        ] {
            assert_eq!(check(&format!("{host}/team/app")), None, "{host}");
        }
    }

    #[test]
    fn other_registries_and_common_publishers() {
        for fine in [
            "ghcr.io/someorg/tool",
            "quay.io/prometheus/prometheus",
            "registry.k8s.io/pause:3.9",
            "mcr.microsoft.com/dotnet/runtime:8.0",
            "gcr.io/distroless/base",
            "gcr.io/distroless/static-debian12",
            "grafana/grafana",
            "prom/prometheus",
            "hashicorp/terraform",
            "minio/minio",
            "curlimages/curl",
            "portainer/portainer-ce",
            "amazon/aws-cli",
            "sonatype/nexus3",
            "gitlab/gitlab-ce",
            "rancher/rancher",
            "localstack/localstack",
            "jenkins/jenkins:lts",
        ] {
            assert_eq!(check(fine), None, "{fine}");
        }
        // A near miss of an official name is a typo on any registry.
        assert_eq!(
            check("ghcr.io/someone/ngimx"),
            Some(Technique::KeyboardNeighbour)
        );
        assert_eq!(check("quay.io/someone/0penjdk"), Some(Technique::Homoglyph));
    }

    #[test]
    fn namespaces() {
        assert_eq!(
            check("libary/nginx"),
            Some(Technique::EditDistance { distance: 1 })
        );
        assert_eq!(check("1ibrary/nginx"), Some(Technique::Homoglyph));
        let trusted = ImageNames::new(
            bundled_official_images(),
            [
                "bitnami/*",
                "ghcr.io/myorg",
                "registry.example.com",
                "someuser/python",
            ]
            .map(String::from)
            .to_vec(),
        );
        let technique = |r: &str| trusted.check(r).map(|l| l.technique);
        assert_eq!(technique("bitnami/redis"), None);
        assert_eq!(technique("docker.io/bitnami/postgresql:16"), None);
        assert_eq!(technique("someuser/python"), None);
        assert_eq!(
            technique("someuser/golang"),
            Some(Technique::OfficialNameElsewhere)
        );
        assert_eq!(technique("bitnarni/redis"), Some(Technique::Homoglyph));
        assert_eq!(technique("bitnam1/redis"), Some(Technique::Homoglyph));
        assert_eq!(
            technique("bitanmi/redis"),
            Some(Technique::EditDistance { distance: 1 })
        );
        // An added letter at the end is an added word, not flagged outside library/.
        assert_eq!(
            technique("bitnamii/redis"),
            Some(Technique::OfficialNameElsewhere)
        );
        assert_eq!(technique("bitnamii/myapp"), None);
        assert_eq!(technique("ghcr.io/myorg/anything"), None);
        assert_eq!(
            technique("ghcr.io/my0rg/anything"),
            Some(Technique::Homoglyph)
        );
        assert_eq!(technique("quay.io/my0rg/anything"), None); // trusted on ghcr.io only
        assert_eq!(technique("registry.example.com/ngimx"), None);
        let found = trusted.check("bitnarni/redis");
        assert_eq!(found.map(|l| l.imitates), Some("bitnami".to_string()));
    }

    #[test]
    fn bad_references_are_not_flagged() {
        for bad in [
            "",
            "Nginx",
            "ngi nx",
            "ubunto:",
            "0penjdk@sha256:12",
            "a//b",
            "://",
            "@",
            "🐳",
        ] {
            assert_eq!(check(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn user_supplied_official_list() {
        let mut official = bundled_official_images();
        official.push("mycompany-base".into());
        let names = ImageNames::new(official, Vec::new());
        assert!(names.is_official("mycompany-base"));
        assert_eq!(names.check("mycompany-base"), None);
        assert_eq!(
            names.check("mycompany-bsae").map(|l| l.technique),
            Some(Technique::EditDistance { distance: 1 })
        );
        let replaced = ImageNames::new(vec!["nginx".into()], Vec::new());
        assert_eq!(replaced.check("ubunto"), None);
        assert!(replaced.check("nignx").is_some());
    }
}
