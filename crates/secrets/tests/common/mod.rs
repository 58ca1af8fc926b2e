//! Helpers shared by the tests: made-up secrets built at run time from random characters, so
//! that no file in the repository holds anything that looks like a live credential.

#![allow(dead_code)]

use std::cell::Cell;

pub const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
pub const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
pub const DIGITS: &str = "0123456789";

thread_local! {
    static STATE: Cell<u64> = const { Cell::new(0x9e37_79b9_7f4a_7c15) };
}

/// The next number of a xorshift generator (deterministic per thread, so failures reproduce).
fn next() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        x
    })
}

/// `len` characters drawn from `alphabet`; always mixes cases and digits where the alphabet
/// has them (re-drawn until it does), so that entropy and character-class checks pass.
pub fn random(len: usize, alphabet: &str) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    loop {
        let s: String = (0..len)
            .map(|_| chars[(next() % chars.len() as u64) as usize])
            .collect();
        let has = |f: fn(&char) -> bool| s.chars().any(|c| f(&c)) || !chars.iter().any(f);
        if has(char::is_ascii_uppercase)
            && has(char::is_ascii_lowercase)
            && has(char::is_ascii_digit)
            && !s.to_ascii_lowercase().contains("xxxx")
            && !s.to_ascii_lowercase().contains("example")
        {
            return s;
        }
    }
}

/// Base64 (standard alphabet, padded) of `bytes`.
pub fn base64(bytes: &[u8]) -> String {
    encode(bytes, BASE64, true)
}

/// Base64url (no padding) of `bytes`, as JWTs use.
pub fn base64url(bytes: &[u8]) -> String {
    encode(bytes, URLSAFE, false)
}

fn encode(bytes: &[u8], alphabet: &str, pad: bool) -> String {
    let alphabet = alphabet.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
        }
        if pad {
            out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
        }
    }
    out
}

/// A PEM-like body: `lines` lines of 64 random base64 characters.
pub fn pem_body(lines: usize) -> Vec<String> {
    (0..lines).map(|_| random(64, BASE64)).collect()
}
