//! Pulling images from container registries with the OCI distribution API, for scanning.
//!
//! [`pull`] resolves a reference (`alpine:3.19`, `ghcr.io/o/r@sha256:…`, `localhost:5000/app`)
//! to an image manifest — through an OCI index or Docker manifest list, for the requested
//! platform — downloads its config and layers into a content-addressed cache, and returns an OCI
//! image layout directory that `stowaway_image::DirStore` reads like any other input. Every
//! manifest and blob is checked against its digest and size; nothing unverified enters the
//! cache. Registries that ask for it get Bearer tokens (Docker Hub's flow) or Basic credentials,
//! given explicitly or found in Docker's `config.json`.
//!
//! HTTP is blocking `ureq` with rustls: https, except for loopback registries and those the
//! caller lists as insecure. Manifests and token replies are read into memory up to 4 MiB;
//! blobs are streamed to disk.

mod cache;
mod challenge;
mod client;
mod credentials;
mod error;
mod manifest;
mod pull;
mod reference;

pub use challenge::{Challenge, parse_www_authenticate};
pub use error::RegistryError;
pub use pull::{PullOptions, Pulled, pull};
pub use reference::{Reference, looks_like_reference, parse_reference};
