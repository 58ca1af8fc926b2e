//! Text from an image (file names, error messages quoting archive bytes) is untrusted: before it
//! reaches a terminal or a log it is made one printable line.

use std::borrow::Cow;

/// Escapes control characters (newlines, ESC, ...) as `\n`, `\u{1b}`, so untrusted text stays one
/// line and cannot drive a terminal.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(one_line("plain/path"), "plain/path");
        assert_eq!(one_line("a\nb\r\x1b[2J\tc"), "a\\nb\\r\\u{1b}[2J\\tc");
        assert_eq!(one_line("naïve ✓"), "naïve ✓");
    }
}
