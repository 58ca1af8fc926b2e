//! Bounds on what a scan expands, each configurable and each reported when hit.

use stowaway_image::layer::LayerLimits;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Uncompressed bytes of one layer; beyond it the layer is refused (an error).
    pub max_layer_bytes: u64,
    /// Entries of one layer; beyond it the layer is refused (an error).
    pub max_layer_entries: u64,
    /// Expansion ratio of a layer or an archive member (uncompressed / compressed).
    pub max_ratio: u64,
    /// Uncompressed bytes of one archive member inside the image.
    pub max_member_bytes: u64,
    /// Bytes expanded from archives inside the image, over the whole scan.
    pub max_nested_bytes: u64,
    /// Entries read from one archive inside the image.
    pub max_entries: u64,
    /// How deep archives inside archives are opened (1: archives in the image, not within them).
    pub max_depth: usize,
    /// Content held in memory for analyzers (and zip archives) per file.
    pub max_in_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 64 << 30,
            max_layer_entries: 4_000_000,
            max_ratio: 250,
            max_member_bytes: 1 << 30,
            max_nested_bytes: 16 << 30,
            max_entries: 100_000,
            max_depth: 4,
            max_in_memory: 32 << 20,
        }
    }
}

impl Limits {
    pub fn layer(&self) -> LayerLimits {
        LayerLimits {
            max_bytes: self.max_layer_bytes,
            max_ratio: self.max_ratio,
        }
    }
}
