//! Berkeley DB hash databases, rpm's `Packages` until rpm 4.16 (RHEL ≤ 8, CentOS, older SUSE):
//! key = package instance (a 4-byte integer), value = the header blob.
//!
//! The file is a sequence of pages of one size. Page 0 is the hash metadata page (magic
//! `0x061561`, page size, last page number, and the byte order of the machine that made it —
//! both orders are read). Key/data pairs sit on hash pages (types 2 and 13) as alternating
//! items; a value too big for a page (every real header) is an "off-page" item pointing to a
//! chain of overflow pages (type 7). This reader does not walk the hash buckets: it reads every
//! hash page in file order, which finds every pair without trusting the bucket arithmetic (freed
//! pages are of type 0 and skipped). Pages are bounds-checked, overflow chains are bounded by the number of
//! pages, and all chains together may not visit more pages than the file has (in a sound
//! database each overflow page belongs to one value).

use thiserror::Error;

use crate::u32_at;

/// The hash access method's magic number.
const HASH_MAGIC: u32 = 0x0006_1561;
/// Page types.
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
/// Hash item types.
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
/// The generic page header (lsn, pgno, prev, next, entries, hf_offset, level, type).
const PAGE_HEADER: usize = 26;
/// The metadata page must hold the generic and hash metadata up to the spares array.
const META_SIZE: usize = 96;
/// An off-page item: type, 3 unused bytes, first overflow page, total length.
const OFFPAGE_SIZE: usize = 12;

/// What is wrong with a Berkeley DB hash file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BdbError {
    #[error("the file is {len} bytes, too short for a metadata page")]
    TooShort { len: usize },
    #[error("no hash magic (0x061561) at byte 12")]
    NotHash,
    #[error("hash version {0} is not one this reader knows (8 to 10)")]
    Version(u32),
    #[error("page size {0} is not a power of two from 512 to 65536")]
    PageSize(u32),
    #[error("the database is encrypted")]
    Encrypted,
    #[error("the database has page checksums, which rpm never writes")]
    Checksummed,
    #[error("the metadata page says the last page is {last}, but the file holds {pages} pages")]
    Truncated { last: u32, pages: usize },
    #[error("page {page}: {entries} items do not fit a page of {page_size} bytes")]
    TooManyItems {
        page: u32,
        entries: u16,
        page_size: usize,
    },
    #[error("page {page}: item {item} lies outside the page (offset {offset}, end {end})")]
    ItemOutOfBounds {
        page: u32,
        item: usize,
        offset: usize,
        end: usize,
    },
    #[error(
        "page {page}: item {item} has type {kind}, not a key/data item or an overflow reference"
    )]
    UnsupportedItem { page: u32, item: usize, kind: u8 },
    #[error("page {page}: key {item} is {len} bytes, not a 4-byte package instance")]
    BadKey { page: u32, item: usize, len: usize },
    #[error("overflow value of {length} bytes from page {start} is larger than the file")]
    OverflowTooLarge { start: u32, length: u32 },
    #[error(
        "overflow value of {length} bytes from page {start}: page {page} is {reason} after {read} bytes"
    )]
    BadOverflowChain {
        start: u32,
        length: u32,
        page: u32,
        read: usize,
        reason: &'static str,
    },
    #[error("overflow chains visit more pages than the file has: pages are shared or looped")]
    OverflowPagesShared,
}

/// Whether `db` starts with a Berkeley DB hash metadata page (either byte order).
pub fn is_hash(db: &[u8]) -> bool {
    db.get(25) == Some(&P_HASHMETA)
        && (u32_at(db, 12, true) == Some(HASH_MAGIC) || u32_at(db, 12, false) == Some(HASH_MAGIC))
}

/// The file as pages.
struct Pages<'a> {
    db: &'a [u8],
    page_size: usize,
    /// Pages 0 to `last`, all within the file.
    last: u32,
    little_endian: bool,
}

impl<'a> Pages<'a> {
    fn page(&self, number: u32) -> Option<&'a [u8]> {
        if number > self.last {
            return None;
        }
        let start = number as usize * self.page_size;
        self.db.get(start..start + self.page_size)
    }

    fn u32(&self, bytes: &[u8], at: usize) -> u32 {
        u32_at(bytes, at, self.little_endian).unwrap_or(0)
    }

    fn u16(&self, bytes: &[u8], at: usize) -> u16 {
        let word = [
            bytes.get(at).copied().unwrap_or(0),
            bytes.get(at + 1).copied().unwrap_or(0),
        ];
        if self.little_endian {
            u16::from_le_bytes(word)
        } else {
            u16::from_be_bytes(word)
        }
    }
}

/// Calls `each(instance, header blob)` for every package of a Berkeley DB hash `Packages` file,
/// in file order; rpm's record 0 (its next-instance counter) is left out.
pub fn for_each_blob(db: &[u8], each: &mut dyn FnMut(u32, &[u8])) -> Result<(), BdbError> {
    if db.len() < META_SIZE {
        return Err(BdbError::TooShort { len: db.len() });
    }
    let little_endian = if u32_at(db, 12, true) == Some(HASH_MAGIC) {
        true
    } else if u32_at(db, 12, false) == Some(HASH_MAGIC) {
        false
    } else {
        return Err(BdbError::NotHash);
    };
    let word = |at| u32_at(db, at, little_endian).unwrap_or(0);
    let version = word(16);
    if !(8..=10).contains(&version) {
        return Err(BdbError::Version(version));
    }
    let page_size = word(20);
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(BdbError::PageSize(page_size));
    }
    if db[24] != 0 {
        return Err(BdbError::Encrypted);
    }
    if db[26] & 1 != 0 {
        return Err(BdbError::Checksummed);
    }
    let last = word(32);
    let pages = db.len() / page_size as usize;
    if last as usize >= pages {
        return Err(BdbError::Truncated { last, pages });
    }
    let pages = Pages {
        db,
        page_size: page_size as usize,
        last,
        little_endian,
    };
    let mut overflow_budget = last as usize + 1;
    for number in 1..=last {
        let Some(page) = pages.page(number) else {
            break;
        };
        if matches!(page[25], P_HASH | P_HASH_UNSORTED) {
            hash_page(&pages, number, page, &mut overflow_budget, each)?;
        }
    }
    Ok(())
}

/// The key/data pairs of one hash page.
fn hash_page(
    pages: &Pages<'_>,
    number: u32,
    page: &[u8],
    overflow_budget: &mut usize,
    each: &mut dyn FnMut(u32, &[u8]),
) -> Result<(), BdbError> {
    let entries = pages.u16(page, 20);
    let items_start = PAGE_HEADER + 2 * usize::from(entries);
    if items_start > page.len() {
        return Err(BdbError::TooManyItems {
            page: number,
            entries,
            page_size: page.len(),
        });
    }
    // Items are laid out from the end of the page down: item i ends where item i-1 starts.
    let item = |index: usize| -> Result<&[u8], BdbError> {
        let offset = usize::from(pages.u16(page, PAGE_HEADER + 2 * index));
        let end = match index {
            0 => page.len(),
            _ => usize::from(pages.u16(page, PAGE_HEADER + 2 * (index - 1))),
        };
        if offset < items_start || offset >= end || end > page.len() {
            return Err(BdbError::ItemOutOfBounds {
                page: number,
                item: index,
                offset,
                end,
            });
        }
        Ok(&page[offset..end])
    };
    for pair in 0..usize::from(entries) / 2 {
        let key = item(2 * pair)?;
        if key[0] != H_KEYDATA {
            return Err(BdbError::UnsupportedItem {
                page: number,
                item: 2 * pair,
                kind: key[0],
            });
        }
        let key = &key[1..];
        if key.len() != 4 {
            return Err(BdbError::BadKey {
                page: number,
                item: 2 * pair,
                len: key.len(),
            });
        }
        let instance = pages.u32(key, 0);
        if instance == 0 {
            continue;
        }
        let data = item(2 * pair + 1)?;
        match data[0] {
            H_KEYDATA => each(instance, &data[1..]),
            H_OFFPAGE if data.len() >= OFFPAGE_SIZE => {
                let value = overflow(
                    pages,
                    pages.u32(data, 4),
                    pages.u32(data, 8),
                    overflow_budget,
                )?;
                each(instance, &value);
            }
            kind => {
                return Err(BdbError::UnsupportedItem {
                    page: number,
                    item: 2 * pair + 1,
                    kind,
                });
            }
        }
    }
    Ok(())
}

/// A value stored on a chain of overflow pages.
fn overflow(
    pages: &Pages<'_>,
    start: u32,
    length: u32,
    budget: &mut usize,
) -> Result<Vec<u8>, BdbError> {
    if length as usize > pages.db.len() {
        return Err(BdbError::OverflowTooLarge { start, length });
    }
    let mut value = Vec::with_capacity(length as usize);
    let mut number = start;
    while value.len() < length as usize {
        let bad = |reason| BdbError::BadOverflowChain {
            start,
            length,
            page: number,
            read: value.len(),
            reason,
        };
        let page = match number {
            0 => return Err(bad("the end of the chain")),
            _ => pages
                .page(number)
                .ok_or_else(|| bad("past the last page"))?,
        };
        if page[25] != P_OVERFLOW {
            return Err(bad("not an overflow page"));
        }
        *budget = budget.checked_sub(1).ok_or(BdbError::OverflowPagesShared)?;
        // An overflow page's hf_offset is the number of value bytes it holds.
        let held = usize::from(pages.u16(page, 22));
        let bytes = page
            .get(PAGE_HEADER..PAGE_HEADER + held)
            .ok_or_else(|| bad("claiming more bytes than a page holds"))?;
        let wanted = length as usize - value.len();
        value.extend_from_slice(&bytes[..held.min(wanted)]);
        number = pages.u32(page, 16);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header;

    const PAGE: usize = 512;

    fn page_header(page: &mut [u8], number: u32, next: u32, entries: u16, hf: u16, kind: u8) {
        page[8..12].copy_from_slice(&number.to_le_bytes());
        page[16..20].copy_from_slice(&next.to_le_bytes());
        page[20..22].copy_from_slice(&entries.to_le_bytes());
        page[22..24].copy_from_slice(&hf.to_le_bytes());
        page[25] = kind;
    }

    /// A little-endian hash database as libdb lays it out: the metadata page, one hash page with
    /// rpm's record 0 (inline) and package 1 (off-page), and `blob` on a chain of overflow pages.
    fn database(blob: &[u8]) -> Vec<u8> {
        let chunks: Vec<&[u8]> = blob.chunks(PAGE - PAGE_HEADER).collect();
        let last = 1 + chunks.len() as u32;
        let mut db = vec![0u8; PAGE * (last as usize + 1)];
        let meta = &mut db[..PAGE];
        meta[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        meta[16..20].copy_from_slice(&9u32.to_le_bytes());
        meta[20..24].copy_from_slice(&(PAGE as u32).to_le_bytes());
        meta[25] = P_HASHMETA;
        meta[32..36].copy_from_slice(&last.to_le_bytes());
        // Items from the end of the page down: key 0, its 4-byte value, key 1, off-page value.
        let hash = &mut db[PAGE..2 * PAGE];
        let mut items: Vec<Vec<u8>> = vec![
            [&[H_KEYDATA][..], &0u32.to_le_bytes()].concat(),
            [&[H_KEYDATA][..], &2u32.to_le_bytes()].concat(),
            [&[H_KEYDATA][..], &1u32.to_le_bytes()].concat(),
        ];
        let mut offpage = vec![H_OFFPAGE, 0, 0, 0];
        offpage.extend_from_slice(&2u32.to_le_bytes());
        offpage.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        items.push(offpage);
        let mut end = PAGE;
        for (i, item) in items.iter().enumerate() {
            let start = end - item.len();
            hash[start..end].copy_from_slice(item);
            hash[PAGE_HEADER + 2 * i..PAGE_HEADER + 2 * i + 2]
                .copy_from_slice(&(start as u16).to_le_bytes());
            end = start;
        }
        page_header(hash, 1, 0, items.len() as u16, end as u16, P_HASH);
        for (i, chunk) in chunks.iter().enumerate() {
            let number = 2 + i as u32;
            let next = if number == last { 0 } else { number + 1 };
            let page = &mut db[number as usize * PAGE..(number as usize + 1) * PAGE];
            page_header(page, number, next, 1, chunk.len() as u16, P_OVERFLOW);
            page[PAGE_HEADER..PAGE_HEADER + chunk.len()].copy_from_slice(chunk);
        }
        db
    }

    fn blobs(db: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, BdbError> {
        let mut found = Vec::new();
        for_each_blob(db, &mut |instance, blob| {
            found.push((instance, blob.to_vec()))
        })?;
        Ok(found)
    }

    /// A header long enough for three overflow pages.
    fn long_blob() -> Vec<u8> {
        let mut blob = header::tests::bash();
        while blob.len() < 2 * (PAGE - PAGE_HEADER) + 10 {
            blob = header::tests::with_padding(&blob);
        }
        blob
    }

    #[test]
    fn pairs_and_overflow_chains() {
        let blob = long_blob();
        let db = database(&blob);
        assert!(is_hash(&db));
        assert_eq!(blobs(&db).unwrap(), [(1, blob.clone())]);
        assert_eq!(header::parse(&blob).unwrap().name, "bash");
    }

    #[test]
    fn broken_chains_and_files_are_errors() {
        let blob = long_blob();
        let db = database(&blob);
        assert_eq!(
            blobs(&db[..db.len() - 1]),
            Err(BdbError::Truncated { last: 4, pages: 4 })
        );
        // The last overflow page points back at the first: a loop, cut by the page budget.
        let mut looped = db.clone();
        looped[4 * PAGE + 16..4 * PAGE + 20].copy_from_slice(&2u32.to_le_bytes());
        let offpage = PAGE + PAGE - 3 * 5 - OFFPAGE_SIZE;
        looped[offpage + 8..offpage + 12].copy_from_slice(&(db.len() as u32).to_le_bytes());
        assert_eq!(blobs(&looped), Err(BdbError::OverflowPagesShared));
        let mut short = db.clone();
        short[4 * PAGE + 16..4 * PAGE + 20].copy_from_slice(&0u32.to_le_bytes());
        short[offpage + 8..offpage + 12].copy_from_slice(&(blob.len() as u32 + 600).to_le_bytes());
        assert!(matches!(
            blobs(&short),
            Err(BdbError::BadOverflowChain {
                reason: "the end of the chain",
                ..
            })
        ));
        let mut encrypted = db.clone();
        encrypted[24] = 1;
        assert_eq!(blobs(&encrypted), Err(BdbError::Encrypted));
        let mut big_endian_magic = db.clone();
        big_endian_magic[12..16].copy_from_slice(&HASH_MAGIC.to_be_bytes());
        // Read as big endian, the little-endian version number is absurd.
        assert_eq!(
            blobs(&big_endian_magic),
            Err(BdbError::Version(u32::from_be_bytes(9u32.to_le_bytes())))
        );
    }

    #[test]
    fn every_truncation_and_mutation_is_handled() {
        let db = database(&long_blob());
        for len in 0..db.len() {
            assert!(blobs(&db[..len]).is_err(), "truncated to {len}");
        }
        let mut state = 0x9e37_79b9_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..20_000 {
            let mut mutated = db.clone();
            for _ in 0..1 + next() % 4 {
                let at = next() as usize % mutated.len();
                mutated[at] = next() as u8;
            }
            let _ = blobs(&mutated).map(|found| {
                for (_, blob) in found {
                    let _ = header::parse(&blob);
                }
            });
        }
    }
}
