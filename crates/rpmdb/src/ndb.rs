//! NDB, rpm's own "new database" (`Packages.db`, SUSE since SLE 15 SP3 and openSUSE), as rpm's
//! `lib/backend/ndb/rpmpkg.c` writes it; every number is little-endian.
//!
//! - bytes 0..32: the file header: magic `RpmP`, version 0, generation, the number of 4 KiB
//!   slot pages, the next package index;
//! - from byte 32 to the end of the slot pages: 16-byte slots (`Slot`, package index, block
//!   offset, block count), a block offset of 0 meaning a free slot;
//! - after them, blobs in 16-byte blocks: a 16-byte head (`BlbS`, package index, timestamp,
//!   length), the header blob, padding, and a 12-byte tail (checksum, length, `BlbE`).
//!
//! Every slot and blob is checked against the file and against the other's fields (index,
//! length, block count); together the blobs may not add up to more than the file's blob area.

use thiserror::Error;

use crate::u32_at;

pub(crate) const MAGIC: [u8; 4] = *b"RpmP";
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_HEAD_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const BLOB_TAIL_MAGIC: u32 = u32::from_le_bytes(*b"BlbE");
const HEADER_SIZE: usize = 32;
const SLOT_SIZE: usize = 16;
const BLOCK: usize = 16;
const SLOT_PAGE: usize = 4096;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

/// What is wrong with an NDB `Packages.db`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NdbError {
    #[error("the file is {len} bytes, too short for its header")]
    TooShort { len: usize },
    #[error("no NDB magic (RpmP) at its start")]
    NotNdb,
    #[error("version {0} is not one this reader knows (0)")]
    Version(u32),
    #[error("{slot_pages} slot pages of 4096 bytes do not fit the {len}-byte file")]
    SlotPages { slot_pages: u32, len: usize },
    #[error("slot {slot}: no slot magic")]
    SlotMagic { slot: usize },
    #[error(
        "slot {slot} (package {package}): blocks {offset}..+{count} are not within the file's blob area"
    )]
    SlotOutOfBounds {
        slot: usize,
        package: u32,
        offset: u32,
        count: u32,
    },
    #[error("slot {slot} (package {package}): the blob {what}")]
    BadBlob {
        slot: usize,
        package: u32,
        what: &'static str,
    },
    #[error("the slots' blobs add up to more than the file's blob area: blobs overlap")]
    BlobsOverlap,
}

/// Calls `each(package index, header blob)` for every used slot, in slot order.
pub fn for_each_blob(db: &[u8], each: &mut dyn FnMut(u32, &[u8])) -> Result<(), NdbError> {
    if db.len() < HEADER_SIZE {
        return Err(NdbError::TooShort { len: db.len() });
    }
    if !db.starts_with(&MAGIC) {
        return Err(NdbError::NotNdb);
    }
    let word = |at| u32_at(db, at, true).unwrap_or(0);
    let version = word(4);
    if version != 0 {
        return Err(NdbError::Version(version));
    }
    let slot_pages = word(12);
    let slots_end = (slot_pages as usize)
        .checked_mul(SLOT_PAGE)
        .filter(|&end| end <= db.len() && end >= HEADER_SIZE)
        .ok_or(NdbError::SlotPages {
            slot_pages,
            len: db.len(),
        })?;
    let first_blob_block = slots_end / BLOCK;
    let file_blocks = db.len() / BLOCK;
    // The blob area, which the blobs share out among themselves.
    let mut budget = db.len() - slots_end;
    for (slot, entry) in db[HEADER_SIZE..slots_end]
        .chunks_exact(SLOT_SIZE)
        .enumerate()
    {
        let field = |at| u32_at(entry, at, true).unwrap_or(0);
        if field(0) != SLOT_MAGIC {
            return Err(NdbError::SlotMagic { slot });
        }
        let (package, offset, count) = (field(4), field(8), field(12));
        if offset == 0 {
            continue;
        }
        let (start, blocks) = (offset as usize, count as usize);
        if package == 0
            || start < first_blob_block
            || blocks == 0
            || start.saturating_add(blocks) > file_blocks
        {
            return Err(NdbError::SlotOutOfBounds {
                slot,
                package,
                offset,
                count,
            });
        }
        let area = &db[start * BLOCK..(start + blocks) * BLOCK];
        budget = budget
            .checked_sub(area.len())
            .ok_or(NdbError::BlobsOverlap)?;
        let bad = |what| NdbError::BadBlob {
            slot,
            package,
            what,
        };
        let head = |at| u32_at(area, at, true).unwrap_or(0);
        if area.len() < BLOB_HEAD + BLOB_TAIL || head(0) != BLOB_HEAD_MAGIC {
            return Err(bad("has no head magic"));
        }
        if head(4) != package {
            return Err(bad("belongs to another package"));
        }
        let length = head(12) as usize;
        if BLOB_HEAD
            .saturating_add(length)
            .saturating_add(BLOB_TAIL)
            .div_ceil(BLOCK)
            != blocks
        {
            return Err(bad("length does not match the slot's block count"));
        }
        let tail = area.len() - BLOB_TAIL;
        if u32_at(area, tail + 4, true) != Some(head(12))
            || u32_at(area, tail + 8, true) != Some(BLOB_TAIL_MAGIC)
        {
            return Err(bad("tail does not match its head"));
        }
        each(package, &area[BLOB_HEAD..BLOB_HEAD + length]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header;
    use crate::ndb_writer as writer;

    fn blobs(db: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, NdbError> {
        let mut found = Vec::new();
        for_each_blob(db, &mut |index, blob| found.push((index, blob.to_vec())))?;
        Ok(found)
    }

    #[test]
    fn slots_and_blobs() {
        let bash = header::tests::bash();
        let db = writer::write(&[(1, bash.clone()), (4, b"other".to_vec())]);
        // Slot order, which the writer made the reverse of the package order.
        assert_eq!(blobs(&db).unwrap(), [(4, b"other".to_vec()), (1, bash)]);
    }

    #[test]
    fn damage_is_named() {
        let db = writer::write(&[(1, header::tests::bash())]);
        assert_eq!(
            blobs(&db[..db.len() - 16]),
            Err(NdbError::SlotOutOfBounds {
                slot: 1,
                package: 1,
                offset: 256,
                count: ((16 + header::tests::bash().len() + 12) as u32).div_ceil(16),
            })
        );
        let mut other = db.clone();
        other[4096 + 4] = 9;
        assert_eq!(
            blobs(&other),
            Err(NdbError::BadBlob {
                slot: 1,
                package: 1,
                what: "belongs to another package"
            })
        );
        let mut pages = db.clone();
        pages[12] = 200;
        assert!(matches!(blobs(&pages), Err(NdbError::SlotPages { .. })));
        // Two slots sharing one blob add up to more than the file.
        let mut shared = db.clone();
        shared.copy_within(48..64, 64);
        assert_eq!(blobs(&shared), Err(NdbError::BlobsOverlap));
    }

    #[test]
    fn every_truncation_and_mutation_is_handled() {
        let db = writer::write(&[(1, header::tests::bash()), (2, header::tests::bash())]);
        for len in 0..db.len() {
            assert!(blobs(&db[..len]).is_err(), "truncated to {len}");
        }
        let mut state = 0x1234_5678_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..5_000 {
            let mut mutated = db.clone();
            for _ in 0..1 + next() % 4 {
                let at = next() as usize % mutated.len();
                mutated[at] = next() as u8;
            }
            let _ = blobs(&mutated);
        }
    }
}
