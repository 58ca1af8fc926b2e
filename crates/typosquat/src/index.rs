//! An index of popular names that answers "which popular name does this one imitate, and how?"
//! without comparing the candidate with every popular name.
//!
//! Exact, skeleton and separator-free forms are hash-map lookups. Near misses in edit distance
//! use a deletion-neighbourhood index in the manner of SymSpell: every popular name is stored
//! under the hashes of all strings obtained by deleting up to `k` bytes of its first
//! [`PREFIX`] bytes (`k` = the edit bound for that name's length), and the same deletions of a
//! candidate's prefix, up to the largest bound, are looked up in it. Two strings within
//! optimal-string-alignment distance `d` share a string reachable by at most `d` deletions from
//! each (a substitution or a transposition costs one deletion on each side), and so do their
//! prefixes of any one length: if `a` loses `x` and `b` loses `y` of their first `P` bytes on
//! the way to the common string, both prefixes reach its first `P - max(x, y)` bytes with at most
//! `max(x, y) <= d` deletions. So the lookup finds every name within the bound; the candidates it
//! returns are then confirmed with the real distance, which also discards hash collisions.
//! Cutting names to a prefix keeps the index small (at most 37 entries a name) and the lookups
//! few; the postings are one sorted vector with a hash map from each key to its run.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::Technique;
use crate::confusable::{describe_difference, other_orders, skeleton, stripped, words};
use crate::distance::{one_keyboard_slip, osa_within};

/// Which added words make a name a look-alike of the name they are added to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AddedWords {
    /// None: in package registries many legitimate names extend popular ones (`requests-oauthlib`).
    Never,
    /// Any word before or after the name (`openjdk-official`, `golang1`, `my-nginx`).
    Any,
    /// Only these suffixes, written with or without a separator (`d3.js`, `d3js`).
    Suffixes(&'static [&'static str]),
}

/// How a checker indexes names: the rules that differ between images and packages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// The largest edit distance looked up for an imitated name of the given length (in bytes);
    /// a [`Query`] can only be stricter.
    pub max_edits: fn(usize) -> usize,
    /// The shortest name (after normalisation) that is looked up by words and by rotations: for
    /// shorter names, moving a part around is too likely to give another real word.
    pub min_word_len: usize,
}

/// What one lookup flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query {
    pub added_words: AddedWords,
    /// The largest edit distance flagged, by the length of the part of the imitated name that
    /// differs: its words once the words both names begin and end with are set aside (so
    /// `mypy-boto3-ebs` is measured against the `rds` of `mypy-boto3-rds`, not the whole name).
    pub max_edits: fn(usize) -> usize,
    /// Whether a name that is a popular one with characters added or removed at one end only
    /// (`datasets`/`dataset`, `futures`/`future`, `recommonmark`/`commonmark`) counts as within
    /// edit distance. Such pairs are added words in effect, common among legitimate packages.
    pub end_edits: bool,
}

/// Whether `a` and `b` differ only by characters added at one end of the shorter.
fn differ_at_one_end(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.starts_with(short) || long.ends_with(short)
}

/// Whether every character in which `a` and `b` differ is a digit, on both sides (`rfc3986`
/// and `rfc3987`, `cu11` and `cu12`): numbers tell versions and variants apart, they do not
/// imitate.
fn differ_in_digits_only(a: &str, b: &str) -> bool {
    let prefix = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let suffix = a.as_bytes()[prefix..]
        .iter()
        .rev()
        .zip(b.as_bytes()[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let middle_a = &a.as_bytes()[prefix..a.len() - suffix];
    let middle_b = &b.as_bytes()[prefix..b.len() - suffix];
    !middle_a.is_empty()
        && !middle_b.is_empty()
        && middle_a.iter().chain(middle_b).all(u8::is_ascii_digit)
}

/// The length of the words of `target` that `candidate` does not share: both names' common
/// leading and trailing words set aside.
/// An npm scope's `@` and `/` count as word breaks here (`@svgr/core` differs from
/// `@pkgr/core` in the four characters of its scope).
pub(crate) fn differing_len(candidate: &str, target: &str) -> usize {
    let split = |name: &str| -> Vec<String> {
        name.split(['/', '@'])
            .flat_map(words)
            .map(String::from)
            .collect()
    };
    let c = split(candidate);
    let t = split(target);
    let prefix = c.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let suffix = c[prefix..]
        .iter()
        .rev()
        .zip(t[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    t[prefix..t.len() - suffix].iter().map(|w| w.len()).sum()
}

/// A popular name that a candidate imitates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Match {
    /// The position of the imitated name in the index (its popularity rank, 0 the most popular).
    pub target: usize,
    pub technique: Technique,
    /// How the candidate differs, for the explanation: `"0" in place of "o"`.
    pub detail: String,
}

/// Popular names in rank order with lookups by exact, skeleton, separator-free and
/// near-in-distance forms.
#[derive(Debug, Clone)]
pub(crate) struct NameIndex {
    names: Vec<String>,
    rules: Rules,
    exact: HashMap<String, usize>,
    skeletons: HashMap<String, Vec<usize>>,
    stripped: HashMap<String, Vec<usize>>,
    /// The names under each deletion variant's hash, as runs of one vector.
    postings: Vec<u32>,
    /// Each variant hash's run in `postings`: (start, length).
    runs: HashMap<u64, (u32, u32), BuildHasherDefault<Premixed>>,
    /// The largest edit bound of any indexed name: how many deletions a query tries.
    max_k: usize,
}

/// How many leading bytes of a name the deletion index covers.
pub(crate) const PREFIX: usize = 16;

/// 64-bit FNV-1a with a final mix of the bits (splitmix64's finaliser), so the value can serve
/// as its own hash-table hash. Collisions only cost an extra distance check.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A hasher for keys that are well-mixed hashes already: it passes them through.
#[derive(Debug, Clone, Copy, Default)]
struct Premixed(u64);

impl Hasher for Premixed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (the keys are `u64`); fold anything else in all the same.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// The hashes of the first [`PREFIX`] bytes of `s` with up to `k` (at most 2) bytes deleted,
/// duplicates included.
fn deletion_hashes(s: &[u8], k: usize, out: &mut Vec<u64>) {
    let s = &s[..s.len().min(PREFIX)];
    out.push(fnv(&[s]));
    if k >= 1 {
        for i in 0..s.len() {
            out.push(fnv(&[&s[..i], &s[i + 1..]]));
        }
    }
    if k >= 2 {
        for i in 0..s.len() {
            for j in i + 1..s.len() {
                out.push(fnv(&[&s[..i], &s[i + 1..j], &s[j + 1..]]));
            }
        }
    }
}

/// The most deletions indexed per name; `Rules::max_edits` is capped to this.
const MAX_EDITS: usize = 2;

impl NameIndex {
    /// Indexes `names` (already normalised, most popular first; duplicates keep the first rank).
    pub(crate) fn new(names: Vec<String>, rules: Rules) -> Self {
        let mut exact = HashMap::with_capacity(names.len());
        let mut skeletons: HashMap<String, Vec<usize>> = HashMap::with_capacity(names.len());
        let mut stripped_forms: HashMap<String, Vec<usize>> = HashMap::with_capacity(names.len());
        let mut deletions: Vec<(u64, u32)> = Vec::new();
        let mut hashes = Vec::new();
        let mut max_k = 0;
        let mut kept = Vec::with_capacity(names.len());
        for name in names {
            if name.is_empty() || exact.contains_key(&name) {
                continue;
            }
            let rank = kept.len();
            exact.insert(name.clone(), rank);
            skeletons.entry(skeleton(&name)).or_default().push(rank);
            stripped_forms
                .entry(stripped(&name))
                .or_default()
                .push(rank);
            if name.is_ascii()
                && let Ok(id) = u32::try_from(rank)
            {
                let k = (rules.max_edits)(name.len()).min(MAX_EDITS);
                max_k = max_k.max(k);
                hashes.clear();
                deletion_hashes(name.as_bytes(), k, &mut hashes);
                deletions.extend(hashes.iter().map(|&h| (h, id)));
            }
            kept.push(name);
        }
        deletions.sort_unstable();
        deletions.dedup();
        let mut runs: HashMap<u64, (u32, u32), BuildHasherDefault<Premixed>> = HashMap::default();
        let mut postings = Vec::with_capacity(deletions.len());
        for (hash, id) in deletions {
            // Fewer than 2^32 postings: a name has at most 37 and ranks fit in u32.
            let at = u32::try_from(postings.len()).unwrap_or(u32::MAX);
            runs.entry(hash).or_insert((at, 0)).1 += 1;
            postings.push(id);
        }
        NameIndex {
            names: kept,
            rules,
            exact,
            skeletons,
            stripped: stripped_forms,
            postings,
            runs,
            max_k,
        }
    }

    pub(crate) fn name(&self, rank: usize) -> &str {
        &self.names[rank]
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.exact.contains_key(name)
    }

    /// The popular name that `candidate` (normalised like the indexed names) imitates, among
    /// those `accept` lets through, by the first technique that matches in the order homoglyph,
    /// separator, swapped words, added word, keyboard neighbour or edit distance; among several
    /// names, the nearest and then the most popular. A name in the index imitates nothing.
    pub(crate) fn find(
        &self,
        candidate: &str,
        query: Query,
        accept: impl Fn(usize) -> bool,
    ) -> Option<Match> {
        if candidate.is_empty() || self.contains(candidate) {
            return None;
        }
        let first = |ranks: Option<&Vec<usize>>| {
            ranks.and_then(|ranks| ranks.iter().copied().find(|&r| accept(r)))
        };
        // Two-character names have too many look-alike twins (`h3` and `he`).
        let long_enough = candidate.chars().count() >= 3;
        if long_enough && let Some(target) = first(self.skeletons.get(&skeleton(candidate))) {
            return Some(self.matched(candidate, target, Technique::Homoglyph));
        }
        let bare = stripped(candidate);
        if let Some(target) = first(self.stripped.get(&bare)) {
            return Some(self.matched(candidate, target, Technique::Separator));
        }
        if bare.len() >= self.rules.min_word_len
            && let Some(target) = self.swapped(candidate, &bare, &accept)
        {
            return Some(Match {
                target,
                technique: Technique::SwappedWords,
                detail: format!("the parts of {:?} in another order", self.names[target]),
            });
        }
        if let Some(found) = self.added_word(candidate, query.added_words, &accept) {
            return Some(found);
        }
        let (target, distance) = self.nearest(candidate, query, &accept)?;
        let technique = if one_keyboard_slip(candidate.as_bytes(), self.names[target].as_bytes()) {
            Technique::KeyboardNeighbour
        } else {
            Technique::EditDistance { distance }
        };
        Some(self.matched(candidate, target, technique))
    }

    fn matched(&self, candidate: &str, target: usize, technique: Technique) -> Match {
        Match {
            target,
            technique,
            detail: describe_difference(candidate, &self.names[target]),
        }
    }

    /// A name whose separator-free form is the candidate's words in another order
    /// (`jdk-open`), or a rotation of the candidate's separator-free form (`jdkopen`), each
    /// part at least three characters long.
    fn swapped(
        &self,
        candidate: &str,
        bare: &str,
        accept: &impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let lookup = |key: &str| {
            self.stripped
                .get(key)
                .and_then(|ranks| ranks.iter().copied().find(|&r| accept(r)))
        };
        let parts = words(candidate);
        if (2..=4).contains(&parts.len()) {
            for order in other_orders(&parts) {
                if let Some(found) = lookup(&order.concat()) {
                    return Some(found);
                }
            }
        }
        if !bare.is_ascii() {
            return None;
        }
        // Every rotation is a window of the name written twice.
        let doubled = bare.repeat(2);
        (3..=bare.len().saturating_sub(3)).find_map(|k| lookup(&doubled[k..k + bare.len()]))
    }

    /// The candidate as a popular name with a word added before or after it.
    fn added_word(
        &self,
        candidate: &str,
        added_words: AddedWords,
        accept: &impl Fn(usize) -> bool,
    ) -> Option<Match> {
        let is_sep = |c: char| crate::confusable::is_separator(c);
        let lookup = |name: &str| self.exact.get(name).copied().filter(|&r| accept(r));
        match added_words {
            AddedWords::Never => None,
            AddedWords::Suffixes(suffixes) => suffixes.iter().find_map(|suffix| {
                let base = candidate.strip_suffix(suffix)?;
                let target = lookup(base.trim_end_matches(is_sep))?;
                Some(self.added(target, suffix))
            }),
            AddedWords::Any => {
                if !candidate.is_ascii() {
                    return None;
                }
                let bytes = candidate.as_bytes();
                // A word boundary: a separator, or a change between letters and digits, or any
                // place at all when the popular name is long enough to be unmistakable.
                let boundary = |k: usize, name_len: usize| {
                    name_len >= 5
                        || is_sep(char::from(bytes[k - 1]))
                        || is_sep(char::from(bytes[k]))
                        || bytes[k - 1].is_ascii_digit() != bytes[k].is_ascii_digit()
                };
                let mut best: Option<Match> = None;
                for k in 1..bytes.len() {
                    let (head, tail) = candidate.split_at(k);
                    let head_name = head.trim_end_matches(is_sep);
                    let tail_name = tail.trim_start_matches(is_sep);
                    let options = [(head_name, tail, k), (tail_name, head, bytes.len() - k)];
                    for (name, extra, name_len) in options {
                        let extra = extra.trim_matches(is_sep);
                        if name.len() < 3 || extra.is_empty() || !boundary(k, name_len) {
                            continue;
                        }
                        if let Some(target) = lookup(name) {
                            let better = best.as_ref().is_none_or(|b| {
                                self.names[target].len() > self.names[b.target].len()
                            });
                            if better {
                                best = Some(self.added(target, extra));
                            }
                        }
                    }
                }
                best
            }
        }
    }

    fn added(&self, target: usize, extra: &str) -> Match {
        Match {
            target,
            technique: Technique::AddedWord,
            detail: format!("{extra:?} added"),
        }
    }

    /// The nearest accepted name within the query's edit bound (ties: the most popular).
    fn nearest(
        &self,
        candidate: &str,
        query: Query,
        accept: &impl Fn(usize) -> bool,
    ) -> Option<(usize, usize)> {
        self.within_bound(candidate)
            .into_iter()
            .filter(|&(rank, distance)| {
                let name = &self.names[rank];
                accept(rank)
                    && distance <= (query.max_edits)(differing_len(candidate, name))
                    && (query.end_edits || !differ_at_one_end(candidate, name))
                    && !differ_in_digits_only(candidate, name)
            })
            .min_by_key(|&(rank, distance)| (distance, rank))
    }

    /// Every indexed name within its own edit bound of `candidate`, as (rank, distance), by rank.
    pub(crate) fn within_bound(&self, candidate: &str) -> Vec<(usize, usize)> {
        if !candidate.is_ascii() || self.postings.is_empty() {
            return Vec::new();
        }
        let mut hashes = Vec::new();
        deletion_hashes(candidate.as_bytes(), self.max_k, &mut hashes);
        // Names of one family (`opentelemetry-instrumentation-*`) share many variants: mark
        // each name once instead of collecting duplicates.
        let mut seen = vec![false; self.names.len()];
        let mut ranks: Vec<u32> = Vec::new();
        for h in hashes {
            let Some(&(start, len)) = self.runs.get(&h) else {
                continue;
            };
            let (start, len) = (start as usize, len as usize);
            for &id in self.postings.get(start..start + len).unwrap_or_default() {
                if let Some(mark) = seen.get_mut(id as usize)
                    && !*mark
                {
                    *mark = true;
                    ranks.push(id);
                }
            }
        }
        ranks.sort_unstable();
        ranks
            .into_iter()
            .filter_map(|id| {
                let rank = usize::try_from(id).ok()?;
                let name = self.names.get(rank)?;
                let bound = (self.rules.max_edits)(name.len()).min(MAX_EDITS);
                osa_within(candidate.as_bytes(), name.as_bytes(), bound).map(|d| (rank, d))
            })
            .collect()
    }

    /// What [`Self::within_bound`] computes, by comparing with every name: the oracle of its tests.
    #[cfg(test)]
    pub(crate) fn within_bound_brute_force(&self, candidate: &str) -> Vec<(usize, usize)> {
        if !candidate.is_ascii() {
            return Vec::new();
        }
        self.names
            .iter()
            .enumerate()
            .filter(|(_, name)| name.is_ascii())
            .filter_map(|(rank, name)| {
                let bound = (self.rules.max_edits)(name.len()).min(MAX_EDITS);
                osa_within(candidate.as_bytes(), name.as_bytes(), bound).map(|d| (rank, d))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(len: usize) -> usize {
        match len {
            0..=3 => 0,
            4..=5 => 1,
            _ => 2,
        }
    }

    fn rules() -> Rules {
        Rules {
            max_edits: bound,
            min_word_len: 5,
        }
    }

    fn query(added_words: AddedWords) -> Query {
        Query {
            added_words,
            max_edits: bound,
            end_edits: true,
        }
    }

    /// A small deterministic generator (xorshift64*), so the test needs no dependency.
    struct Random(u64);
    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
        }
    }

    /// A random name: either a popular one with up to three random edits (so that many fall
    /// near a popular name, some just outside the bound) or random letters.
    fn random_name(random: &mut Random, popular: &[String]) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-._";
        let pick = |random: &mut Random| ALPHABET[random.below(ALPHABET.len())];
        if random.below(4) == 0 {
            let len = 1 + random.below(12);
            return (0..len).map(|_| char::from(pick(random))).collect();
        }
        let mut name = popular[random.below(popular.len())].as_bytes().to_vec();
        for _ in 0..random.below(4) {
            let at = random.below(name.len() + 1);
            match random.below(4) {
                0 => name.insert(at, pick(random)),
                1 if at < name.len() => {
                    name.remove(at);
                }
                2 if at < name.len() => name[at] = pick(random),
                _ if at + 1 < name.len() => name.swap(at, at + 1),
                _ => {}
            }
        }
        String::from_utf8_lossy(&name).into_owned()
    }

    #[test]
    fn deletion_index_agrees_with_brute_force() {
        let popular: Vec<String> = crate::lists::bundled_pypi()
            .into_iter()
            .take(2000)
            .collect();
        let index = NameIndex::new(popular.clone(), rules());
        let mut random = Random(0x5eed_1234_abcd_0001);
        let mut hits = 0;
        for _ in 0..600 {
            let name = random_name(&mut random, &popular);
            let fast = index.within_bound(&name);
            assert_eq!(fast, index.within_bound_brute_force(&name), "{name}");
            hits += usize::from(!fast.is_empty());
        }
        // The test means something only if many random names do fall near popular ones.
        assert!(
            hits > 200,
            "only {hits} of 600 random names were near a popular one"
        );
    }

    #[test]
    fn finds_each_technique() {
        let names = ["openjdk", "cross-env", "nginx", "golang"].map(String::from);
        let index = NameIndex::new(names.to_vec(), rules());
        let technique = |c: &str| {
            index
                .find(c, query(AddedWords::Any), |_| true)
                .map(|m| m.technique)
        };
        assert_eq!(technique("0penjdk"), Some(Technique::Homoglyph));
        assert_eq!(technique("crossenv"), Some(Technique::Separator));
        assert_eq!(technique("jdk-open"), Some(Technique::SwappedWords));
        assert_eq!(technique("env-cross"), Some(Technique::SwappedWords));
        assert_eq!(technique("golang-latest"), Some(Technique::AddedWord));
        assert_eq!(technique("ngimx"), Some(Technique::KeyboardNeighbour));
        assert_eq!(
            technique("nignx"),
            Some(Technique::EditDistance { distance: 1 })
        );
        assert_eq!(technique("nginx"), None);
        assert_eq!(technique("apache"), None);
        assert_eq!(technique(""), None);
        // `accept` can rule names out.
        assert_eq!(
            index.find("ngimx", query(AddedWords::Any), |rank| rank != 2),
            None
        );
        assert_eq!(
            technique_without_words(&index, "golang-latest"),
            None,
            "added words are off"
        );
    }

    fn technique_without_words(index: &NameIndex, candidate: &str) -> Option<Technique> {
        index
            .find(candidate, query(AddedWords::Never), |_| true)
            .map(|m| m.technique)
    }

    #[test]
    fn differing_words() {
        assert_eq!(differing_len("mypy-boto3-ebs", "mypy-boto3-rds"), 3);
        assert_eq!(differing_len("python3-dateutil", "python-dateutil"), 6);
        assert_eq!(differing_len("x-transformers", "transformers"), 0);
        assert_eq!(differing_len("nodee", "node"), 4);
        assert_eq!(differing_len("a-b-a", "a-a"), 0);
        // Differing only in separators: all of the target differs.
        assert_eq!(differing_len("pythondateuti", "python-dateutil"), 14);
        assert_eq!(differing_len("@svgr/core", "@pkgr/core"), 4);
        let names = ["mypy-boto3-rds", "python-dateutil"].map(String::from);
        let index = NameIndex::new(names.to_vec(), rules());
        let technique = |c: &str| {
            index
                .find(c, query(AddedWords::Never), |_| true)
                .map(|m| m.technique)
        };
        assert_eq!(technique("mypy-boto3-ebs"), None);
        assert_eq!(technique("mypy-boto3-rdss"), None);
        assert_eq!(technique("mypy-bot03-rds"), Some(Technique::Homoglyph));
        assert_eq!(
            technique("mypy-bofo3-rds"),
            Some(Technique::KeyboardNeighbour)
        );
        assert_eq!(technique("mypy-boto4-rds"), None); // digits only
        assert_eq!(
            technique("python-dateutil2"),
            Some(Technique::EditDistance { distance: 1 })
        );
        let no_ends = Query {
            end_edits: false,
            ..query(AddedWords::Never)
        };
        let found = |c: &str| index.find(c, no_ends, |_| true).map(|m| m.technique);
        assert_eq!(found("python-dateutil2"), None);
        assert_eq!(found("python-dateuti"), None);
        assert_eq!(found("ython-dateutil"), None);
        assert_eq!(
            found("python-datuetil"),
            Some(Technique::EditDistance { distance: 1 })
        );
        assert_eq!(
            technique("python3-dateutil"),
            Some(Technique::EditDistance { distance: 1 })
        );
    }

    #[test]
    fn duplicates_keep_their_first_rank() {
        let names = ["a-b", "c", "a-b"].map(String::from);
        let index = NameIndex::new(names.to_vec(), rules());
        assert_eq!(index.name(1), "c");
    }
}
