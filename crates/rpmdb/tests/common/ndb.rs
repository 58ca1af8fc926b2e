//! Writes an NDB `Packages.db` byte for byte as rpm's `lib/backend/ndb/rpmpkg.c` lays it out (no
//! tool on Debian writes NDB, so the tests make one): a 32-byte header, one 4 KiB page of
//! 16-byte slots, then each blob in 16-byte blocks with its head, padding and Adler-32 tail.
//! Blobs are stored in reverse order and the first slot is left free, as after a removal.

const BLOCK: usize = 16;
const SLOT_PAGE: usize = 4096;

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// An NDB database holding `(package index, header blob)` pairs.
pub fn write(blobs: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut db = vec![0u8; SLOT_PAGE];
    let next = blobs.iter().map(|(index, _)| index + 1).max().unwrap_or(1);
    for (at, value) in [
        (0, u32::from_le_bytes(*b"RpmP")),
        (4, 0),
        (8, 7),
        (12, 1),
        (16, next),
    ] {
        db[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }
    for slot in db[32..].chunks_exact_mut(16) {
        slot[..4].copy_from_slice(b"Slot");
    }
    for (n, (index, blob)) in blobs.iter().rev().enumerate() {
        let offset = db.len() / BLOCK;
        let blocks = (16 + blob.len() + 12).div_ceil(BLOCK);
        let mut area = Vec::with_capacity(blocks * BLOCK);
        area.extend_from_slice(b"BlbS");
        area.extend_from_slice(&index.to_le_bytes());
        area.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        area.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        area.extend_from_slice(blob);
        area.resize(blocks * BLOCK - 12, 0);
        let checksum = adler32(&area);
        area.extend_from_slice(&checksum.to_le_bytes());
        area.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        area.extend_from_slice(b"BlbE");
        db.extend_from_slice(&area);
        // Slot 2 (the first after the header) stays free.
        let slot = 32 + 16 * (n + 1);
        for (at, value) in [(4, *index), (8, offset as u32), (12, blocks as u32)] {
            db[slot + at..slot + at + 4].copy_from_slice(&value.to_le_bytes());
        }
    }
    db
}
