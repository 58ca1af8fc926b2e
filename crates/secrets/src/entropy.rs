//! Shannon entropy in bits per byte: how random a candidate secret looks. Random tokens over a
//! 64-letter alphabet score near `log2(len)` for short strings (a 40-character AWS secret key
//! about 4.8), English words and repeated characters far lower (`aaaaaaaa` scores 0,
//! `password` 2.75). Rules that match loosely (generic assignments) use it as a threshold.

/// Shannon entropy of `bytes`, in bits per byte; 0 for the empty string.
pub(crate) fn shannon(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::shannon;

    #[test]
    fn known_values() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaaaaaa"), 0.0);
        assert!((shannon(b"ab") - 1.0).abs() < 1e-9);
        assert!((shannon(b"abcdefgh") - 3.0).abs() < 1e-9);
        assert!((shannon(b"password") - 2.75).abs() < 1e-9);
    }
}
