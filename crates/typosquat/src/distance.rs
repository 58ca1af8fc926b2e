//! String distances used to compare a name with a popular one: the optimal string alignment
//! distance (Damerau-Levenshtein where no substring is edited twice) with an early exit once a
//! bound is exceeded, and adjacency of keys on a QWERTY keyboard.
//!
//! Both work on bytes: every name compared here is ASCII (Docker references, npm and PyPI names
//! are ASCII by their grammars; the checkers skip the distance rules for anything else).

/// The optimal string alignment distance between `a` and `b` (insertions, deletions,
/// substitutions and transpositions of adjacent bytes each cost 1), or `None` when it exceeds
/// `max`.
pub(crate) fn osa_within(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    // A common beginning and end change nothing (a transposition across the cut would swap two
    // equal bytes) and are often most of the name: `opentelemetry-instrumentation-*`.
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.is_empty() || b.is_empty() {
        let d = a.len().max(b.len());
        return (d <= max).then_some(d);
    }
    // Each edit changes the byte histogram by at most two counts: a cheap lower bound that
    // rules out most names the index returns.
    let mut counts = [0i32; 64];
    for &x in a {
        counts[usize::from(x & 63)] += 1;
    }
    for &y in b {
        counts[usize::from(y & 63)] -= 1;
    }
    let histogram_distance: u32 = counts.iter().map(|c| c.unsigned_abs()).sum();
    if usize::try_from(histogram_distance.div_ceil(2)).unwrap_or(usize::MAX) > max {
        return None;
    }
    // Three rows: the one before the previous (for transpositions), the previous, the current;
    // on the stack for names up to 63 bytes.
    const STACK: usize = 64;
    let width = b.len() + 1;
    if width <= STACK {
        let mut rows = [[0usize; STACK]; 3];
        let [before, previous, current] = &mut rows;
        fill(
            a,
            b,
            max,
            [
                &mut before[..width],
                &mut previous[..width],
                &mut current[..width],
            ],
        )
    } else {
        let (mut before, mut previous, mut current) =
            (vec![0; width], vec![0; width], vec![0; width]);
        fill(a, b, max, [&mut before, &mut previous, &mut current])
    }
}

/// The dynamic programme of [`osa_within`] on three rows of `b.len() + 1` cells.
fn fill(a: &[u8], b: &[u8], max: usize, rows: [&mut [usize]; 3]) -> Option<usize> {
    let [mut before, mut previous, mut current] = rows;
    for (j, cell) in previous.iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let d = previous[b.len()];
    (d <= max).then_some(d)
}

/// The rows of a QWERTY keyboard, each shifted half a key right of the one above.
const ROWS: [&[u8]; 4] = [b"1234567890-", b"qwertyuiop", b"asdfghjkl", b"zxcvbnm"];

fn position(key: u8) -> Option<(usize, usize)> {
    let key = key.to_ascii_lowercase();
    ROWS.iter()
        .enumerate()
        .find_map(|(row, keys)| keys.iter().position(|&k| k == key).map(|col| (row, col)))
}

/// Whether `a` and `b` are different keys that touch on a QWERTY keyboard: neighbours in the
/// same row, or one of the two keys above or below (rows are staggered, so key `col` of a row
/// touches keys `col` and `col + 1` of the row above).
pub(crate) fn keyboard_adjacent(a: u8, b: u8) -> bool {
    let (Some((ra, ca)), Some((rb, cb))) = (position(a), position(b)) else {
        return false;
    };
    if ra == rb {
        return ca.abs_diff(cb) == 1;
    }
    let (upper, lower) = if ra < rb {
        ((ra, ca), (rb, cb))
    } else {
        ((rb, cb), (ra, ca))
    };
    lower.0 == upper.0 + 1 && (upper.1 == lower.1 || upper.1 == lower.1 + 1)
}

/// Whether `candidate` is `target` with exactly one byte replaced by a neighbouring key.
pub(crate) fn one_keyboard_slip(candidate: &[u8], target: &[u8]) -> bool {
    if candidate.len() != target.len() {
        return false;
    }
    let mut differences = candidate.iter().zip(target).filter(|(c, t)| c != t);
    match (differences.next(), differences.next()) {
        (Some((&c, &t)), None) => keyboard_adjacent(c, t),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn osa(a: &str, b: &str) -> Option<usize> {
        osa_within(a.as_bytes(), b.as_bytes(), 10)
    }

    #[test]
    fn osa_distances() {
        assert_eq!(osa("", ""), Some(0));
        assert_eq!(osa("abc", ""), Some(3));
        assert_eq!(osa("nginx", "nginx"), Some(0));
        assert_eq!(osa("nignx", "nginx"), Some(1));
        assert_eq!(osa("ubunto", "ubuntu"), Some(1));
        assert_eq!(osa("golang1", "golang"), Some(1));
        assert_eq!(osa("kitten", "sitting"), Some(3));
        // Optimal string alignment, not full Damerau-Levenshtein: "ca" -> "abc" is 3, not 2.
        assert_eq!(osa("ca", "abc"), Some(3));
        assert_eq!(osa_within(b"kitten", b"sitting", 2), None);
        assert_eq!(osa_within(b"a", b"abcd", 2), None);
        // Common ends are cut before the table is filled; the answers are the same.
        assert_eq!(osa("xxabyy", "xxbayy"), Some(1));
        assert_eq!(osa("aab", "aba"), Some(1));
        assert_eq!(osa("abab", "baba"), Some(2));
        assert_eq!(osa("mypy-boto3-rds", "mypy-boto3-ebs"), Some(2));
        // Long names leave the stack rows for the heap.
        let long = "x".repeat(100);
        assert_eq!(osa(&format!("{long}ab"), &format!("{long}ba")), Some(1));
        assert_eq!(osa(&format!("a{long}b"), &format!("b{long}a")), Some(2));
    }

    #[test]
    fn keyboard() {
        assert!(keyboard_adjacent(b'n', b'm'));
        assert!(keyboard_adjacent(b'q', b'a'));
        assert!(keyboard_adjacent(b'w', b'a'));
        assert!(keyboard_adjacent(b's', b'z'));
        assert!(keyboard_adjacent(b'1', b'q'));
        assert!(!keyboard_adjacent(b'q', b's'));
        assert!(!keyboard_adjacent(b'a', b'a'));
        assert!(!keyboard_adjacent(b'a', b'p'));
        assert!(!keyboard_adjacent(b'.', b'a'));
        assert!(one_keyboard_slip(b"ngimx", b"nginx"));
        assert!(!one_keyboard_slip(b"ngipx", b"nginx"));
        assert!(!one_keyboard_slip(b"nginx", b"nginx"));
    }
}
