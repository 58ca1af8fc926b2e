//! Redaction: what a report may show of a secret. Never the secret itself — at most its first
//! four characters (fewer for short secrets: a quarter of its length) or the rule's fixed public
//! prefix (`ghp_`, `sk_live_`, `github_pat_`: the same for every token of that kind), followed by
//! `*` — as many as the hidden characters, but at least 4 and at most 16, so that the mask gives
//! away neither a short secret's length nor a long one's.

/// The most characters of a secret that [`redact`] keeps when the rule has no fixed prefix.
const MAX_KEPT: usize = 4;
/// Bounds of the mask's length.
const MIN_MASK: usize = 4;
const MAX_MASK: usize = 16;

/// `secret` with all but a short prefix masked: `ghp_AbCd…` → `ghp_****************`.
pub fn redact(secret: &str) -> String {
    let chars = secret.chars().count();
    redact_keeping(secret, (chars / 4).min(MAX_KEPT))
}

/// `secret` with its first `kept` characters shown and the rest masked; at least one character
/// is always hidden, whatever `kept` says.
pub(crate) fn redact_keeping(secret: &str, kept: usize) -> String {
    let chars = secret.chars().count();
    let kept = kept.min(chars.saturating_sub(1));
    let hidden = chars - kept;
    let mut out: String = secret.chars().take(kept).collect();
    out.extend(std::iter::repeat_n('*', hidden.clamp(MIN_MASK, MAX_MASK)));
    out
}

#[cfg(test)]
mod tests {
    use super::{redact, redact_keeping};

    #[test]
    fn keeps_at_most_four_characters() {
        assert_eq!(redact("abcdefghijklmnopqrstuvwxyz"), "abcd****************");
        assert_eq!(redact("hunter22"), "hu******");
        assert_eq!(redact("abc"), "****");
        assert_eq!(redact(""), "****");
    }

    #[test]
    fn fixed_prefix_is_kept_but_never_the_whole_secret() {
        assert_eq!(
            redact_keeping("ghp_0123456789abcdefghijklmnopqrstuvwxyz", 4),
            "ghp_****************"
        );
        assert_eq!(redact_keeping("ghp_", 4), "ghp****");
    }

    #[test]
    fn multibyte_characters_are_not_split() {
        assert_eq!(redact("ééééééééé"), "éé*******");
    }
}
