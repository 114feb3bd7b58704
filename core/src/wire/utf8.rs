//! UTF-8 validation of decoded strings, by length.
//!
//! The SIMD validator (simdutf8) checks 64 bytes at a time and hands anything shorter to the
//! standard library's byte-by-byte check, which costs about 0.6 ns a byte on non-ASCII text.
//! Most strings in real messages are shorter than that, so short strings take one of two
//! faster ways here, each followed by the one `unsafe` call of this module: turning bytes
//! already shown to be UTF-8 into a `str`.

/// The SIMD validator's block.
const BLOCK: usize = 64;

/// Non-ASCII strings at least this long (and shorter than a block) are checked as one
/// zero-padded block; shorter ones by the standard check, which is faster there.
const PAD_FROM: usize = 24;

/// `bytes` as a `str` if it is valid UTF-8; `None` otherwise.
#[inline]
pub(crate) fn check(bytes: &[u8]) -> Option<&str> {
    let n = bytes.len();
    if n >= BLOCK {
        return simdutf8::basic::from_utf8(bytes).ok();
    }
    if bytes.is_ascii() || (n >= PAD_FROM && padded_is_utf8(bytes)) {
        // SAFETY: ASCII is UTF-8; and `padded_is_utf8` holds only when `bytes` is UTF-8 (see
        // there).
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    if n >= PAD_FROM {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// Whether `bytes` (shorter than a block) is valid UTF-8, checked as one block padded with
/// zeros. That is exact: zeros are valid UTF-8 after a complete character, and after an
/// incomplete one they are an error (a zero is not a continuation byte), so the block is
/// valid exactly when `bytes` is.
#[inline(never)]
fn padded_is_utf8(bytes: &[u8]) -> bool {
    let mut block = [0u8; BLOCK];
    block[..bytes.len()].copy_from_slice(bytes);
    simdutf8::basic::from_utf8(&block).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Agrees with the standard library on every length around the thresholds, for ASCII,
    /// two-, three- and four-byte characters, and every way of cutting or breaking one.
    #[test]
    fn agrees_with_std() {
        let texts = [
            "a",
            "é",
            "你",
            "😀",
            "a\u{7f}",
            "\u{80}",
            "\u{7ff}\u{800}",
            "\u{ffff}",
        ];
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for t in texts {
            for n in 0..=BLOCK + 8 {
                let s: Vec<u8> = t.bytes().cycle().take(n).collect();
                inputs.push(s.clone());
                for at in [0, n / 2, n.saturating_sub(1)] {
                    if at < n {
                        for bad in [0x80, 0xc0, 0xed, 0xf4, 0xf8, 0xff] {
                            let mut b = s.clone();
                            b[at] = bad;
                            inputs.push(b);
                        }
                    }
                }
            }
        }
        // Surrogates, overlong forms and code points past U+10FFFF, at each position.
        for bad in [
            &[0xed, 0xa0, 0x80][..],
            &[0xc0, 0xaf],
            &[0xe0, 0x80, 0xaf],
            &[0xf4, 0x90, 0x80, 0x80],
        ] {
            for pad in [0, 10, 29, 30, 31, 40, 60, 61, 62, 63] {
                let mut b = vec![b'x'; pad];
                b.extend_from_slice(bad);
                inputs.push(b);
            }
        }
        for b in &inputs {
            assert_eq!(
                check(b),
                std::str::from_utf8(b).ok(),
                "{} bytes: {b:02x?}",
                b.len()
            );
        }
        assert!(inputs.iter().filter(|b| check(b).is_none()).count() > 1000);
    }

    proptest::proptest! {
        /// Random text of every length up to two blocks, with one byte replaced by a random
        /// one or not, agrees with the standard library.
        #[test]
        fn agrees_with_std_on_random_text(
            s in "\\PC{0,40}",
            cut in 0usize..200,
            at in proptest::option::of((0usize..200, proptest::num::u8::ANY)),
        ) {
            let mut b = s.into_bytes();
            b.truncate(cut.min(b.len()));
            if let Some((i, byte)) = at && !b.is_empty() {
                let i = i % b.len();
                b[i] = byte;
            }
            proptest::prop_assert_eq!(check(&b), std::str::from_utf8(&b).ok());
        }
    }
}
