//! Container image sources and layer decoding.
//!
//! An image arrives as a `docker save` archive (classic or the Docker 25+ OCI-in-tar layout), an
//! OCI image layout (directory or tar), or a stream of either on stdin. This crate turns any of
//! them into [`ImageSpec`]s — name, config, history and the ordered layers with the digests the
//! image declares — and opens each layer as an uncompressed tar stream whose digests are computed
//! as it is read ([`layer::decode`]), so the scanner can verify them without a second pass.
//!
//! Nothing here writes to disk. Paths inside an archive are normalised and never joined onto a
//! host path; symlinks inside an archive resolve only to other members of the same archive.

mod digest;
mod error;
pub mod layer;
mod manifest;
mod paths;
mod run_config;
mod store;

pub use digest::{Digest, DigestReader};
pub use error::ImageError;
pub use manifest::{ImageSpec, LayerSpec, Platform, resolve_images, select_images};
pub use paths::normalize_member;
pub use store::{BlobStore, DirStore, MemoryStore, TarStore, read_stream};
