//! UTF-8 validation of decoded strings, by length.
//!
//! On x86-64 processors with AVX-512 (BW), every string that is not short ASCII is checked by
//! [`avx512::is_utf8`], 64 bytes at a time, the last part of a block with a masked load (no
//! copy). Elsewhere, the SIMD validator (simdutf8) checks 64 bytes at a time and hands anything
//! shorter to the standard library's byte-by-byte check, which costs about 0.6 ns a byte on
//! non-ASCII text; so short strings take one of two faster ways here. Each way ends with the
//! one `unsafe` call outside the AVX-512 code: turning bytes shown to be UTF-8 into a `str`.

/// The SIMD validator's block.
const BLOCK: usize = 64;

/// Non-ASCII strings at least this long (and shorter than a block) are checked as one
/// zero-padded block; shorter ones by the standard check, which is faster there.
const PAD_FROM: usize = 24;

/// `bytes` as a `str` if it is valid UTF-8; `None` otherwise.
#[inline]
pub(crate) fn check(bytes: &[u8]) -> Option<&str> {
    if bytes.len() < BLOCK && bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    #[cfg(target_arch = "x86_64")]
    if avx512::available() {
        // SAFETY: the processor has the features `is_utf8` is compiled for (just asked).
        let valid = unsafe { avx512::is_utf8(bytes) };
        // SAFETY: `is_utf8` holds only when `bytes` is UTF-8 (see there).
        return valid.then(|| unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    portable(bytes)
}

/// [`check`] without AVX-512 (for a string that is long, or not ASCII; right for any).
fn portable(bytes: &[u8]) -> Option<&str> {
    let n = bytes.len();
    if n >= BLOCK {
        simdutf8::basic::from_utf8(bytes).ok()
    } else if n >= PAD_FROM {
        // SAFETY: `padded_is_utf8` holds only when `bytes` is UTF-8 (see there).
        padded_is_utf8(bytes).then(|| unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
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

/// UTF-8 validation with AVX-512: the lookup algorithm of Keiser and Lemire ("Validating
/// UTF-8 in less than one instruction per byte", Software: Practice and Experience, 2021),
/// written here for 64-byte registers.
///
/// Each byte is checked together with the three before it. Three 16-entry tables, indexed by
/// the high and low half of the byte before and the high half of the byte itself, give each
/// pair of bytes a set of error bits; their AND is non-zero exactly when the pair cannot occur
/// in UTF-8 (an ASCII or lead byte followed by a continuation byte it does not allow, a lead
/// byte not followed by one, an overlong form, a surrogate, a code point past U+10FFFF), except
/// for one bit that marks two continuation bytes in a row: that is an error unless a 3- or
/// 4-byte lead two or three bytes before asks for it, which is checked against that bit.
/// The string's end is checked as if zero bytes followed it: in the last, partial block the
/// masked load reads zeros there; after a full last block, its last three bytes are checked
/// for a lead that would need more.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    // One bit per kind of error of a pair of bytes (byte 1, then byte 2).
    /// A lead byte followed by a byte that is not a continuation.
    const TOO_SHORT: u8 = 1 << 0;
    /// An ASCII byte followed by a continuation.
    const TOO_LONG: u8 = 1 << 1;
    /// `E0` followed by `80..=9F`.
    const OVERLONG_3: u8 = 1 << 2;
    /// `F4` followed by `90..=BF`, or `F5..=FF` followed by a continuation.
    const TOO_LARGE: u8 = 1 << 3;
    /// `ED` followed by `A0..=BF`.
    const SURROGATE: u8 = 1 << 4;
    /// `C0` or `C1` followed by a continuation.
    const OVERLONG_2: u8 = 1 << 5;
    /// `F5..=FF` followed by `80..=8F` (with [`TOO_LARGE`] for `90..=BF`).
    const TOO_LARGE_1000: u8 = 1 << 6;
    /// `F0` followed by `80..=8F` (the same bit: the lead bytes differ in their low half).
    const OVERLONG_4: u8 = 1 << 6;
    /// Two continuation bytes: an error unless a 3- or 4-byte lead asks for this one.
    const TWO_CONTS: u8 = 1 << 7;
    /// The errors any lead's low half allows (the high half decides).
    const CARRY: u8 = TOO_SHORT | TOO_LONG | TWO_CONTS;

    /// By the high half of byte 1.
    const BYTE_1_HIGH: [u8; 16] = [
        // 0___: ASCII.
        TOO_LONG,
        TOO_LONG,
        TOO_LONG,
        TOO_LONG,
        TOO_LONG,
        TOO_LONG,
        TOO_LONG,
        TOO_LONG,
        // 10__: a continuation.
        TWO_CONTS,
        TWO_CONTS,
        TWO_CONTS,
        TWO_CONTS,
        // 1100: a 2-byte lead, overlong when C0 or C1.
        TOO_SHORT | OVERLONG_2,
        // 1101: a 2-byte lead.
        TOO_SHORT,
        // 1110: a 3-byte lead.
        TOO_SHORT | OVERLONG_3 | SURROGATE,
        // 1111: a 4-byte lead, or no lead at all from F5.
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
    ];

    /// By the low half of byte 1.
    const BYTE_1_LOW: [u8; 16] = [
        // ___0000: C0, E0, F0.
        CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
        // ___0001: C1.
        CARRY | OVERLONG_2,
        CARRY,
        CARRY,
        // ___0100: F4.
        CARRY | TOO_LARGE,
        // ___0101 to ___1111: F5 to FF.
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        // ___1101: also ED.
        CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000,
    ];

    /// By the high half of byte 2.
    const BYTE_2_HIGH: [u8; 16] = [
        // 0___: ASCII.
        TOO_SHORT,
        TOO_SHORT,
        TOO_SHORT,
        TOO_SHORT,
        TOO_SHORT,
        TOO_SHORT,
        TOO_SHORT,
        TOO_SHORT,
        // 1000: 80..=8F.
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
        // 1001: 90..=9F.
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
        // 101_: A0..=BF.
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        // 11__: a lead.
        TOO_SHORT,
        TOO_SHORT,
        TOO_SHORT,
        TOO_SHORT,
    ];

    /// Whether this processor runs [`is_utf8`] (asked once; then a load and a test).
    #[inline]
    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
    }

    /// A 16-entry table in each 128-bit lane (`vpshufb` looks up within lanes).
    const fn lanes(t: [u8; 16]) -> [u8; 64] {
        let mut v = [0u8; 64];
        let mut i = 0;
        while i < 64 {
            v[i] = t[i % 16];
            i += 1;
        }
        v
    }

    static TABLES: [[u8; 64]; 3] = [lanes(BYTE_1_HIGH), lanes(BYTE_1_LOW), lanes(BYTE_2_HIGH)];

    /// What the last three bytes of a string may be at most (any byte before them): each
    /// must not start a character that would need more bytes than follow it.
    static LAST_MAX: [u8; 64] = {
        let mut m = [0xffu8; 64];
        m[61] = 0xf0 - 1;
        m[62] = 0xe0 - 1;
        m[63] = 0xc0 - 1;
        m
    };

    /// The 64 bytes of `v` in a register.
    #[inline(always)]
    fn load(v: &[u8; 64]) -> __m512i {
        // SAFETY: `v` is 64 readable bytes; the load has no alignment requirement.
        unsafe { _mm512_loadu_si512(v.as_ptr() as *const __m512i) }
    }

    /// Whether `bytes` is valid UTF-8.
    ///
    /// # Safety
    /// The processor has AVX-512 F and BW ([`available`]).
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn is_utf8(bytes: &[u8]) -> bool {
        let (t1h, t1l, t2h) = (load(&TABLES[0]), load(&TABLES[1]), load(&TABLES[2]));
        let low = _mm512_set1_epi8(0x0f);
        // The 64-bit words that put the last 16 bytes of the previous block before the
        // first 48 of this one (the previous block is the first operand).
        let shift = _mm512_set_epi64(13, 12, 11, 10, 9, 8, 7, 6);
        // Bytes ≥ E0 (two before) and ≥ F0 (three before) ask for a continuation: subtracting
        // these (saturating) leaves the top bit set exactly there.
        let third = _mm512_set1_epi8((0xe0u8 - 0x80) as i8);
        let fourth = _mm512_set1_epi8((0xf0u8 - 0x80) as i8);
        let top = _mm512_set1_epi8(0x80u8 as i8);
        // Error bits of block `cur` after block `prev` (zeros before the first).
        let errors = |prev: __m512i, cur: __m512i| -> __m512i {
            let joined = _mm512_permutex2var_epi64(prev, shift, cur);
            let prev1 = _mm512_alignr_epi8(cur, joined, 15);
            let prev2 = _mm512_alignr_epi8(cur, joined, 14);
            let prev3 = _mm512_alignr_epi8(cur, joined, 13);
            let b1h = _mm512_shuffle_epi8(t1h, _mm512_and_si512(_mm512_srli_epi16(prev1, 4), low));
            let b1l = _mm512_shuffle_epi8(t1l, _mm512_and_si512(prev1, low));
            let b2h = _mm512_shuffle_epi8(t2h, _mm512_and_si512(_mm512_srli_epi16(cur, 4), low));
            // 0x80: a AND b AND c.
            let pairs = _mm512_ternarylogic_epi64(b1h, b1l, b2h, 0x80);
            let wanted = _mm512_and_si512(
                _mm512_or_si512(
                    _mm512_subs_epu8(prev2, third),
                    _mm512_subs_epu8(prev3, fourth),
                ),
                top,
            );
            _mm512_xor_si512(wanted, pairs)
        };
        let (n, p) = (bytes.len(), bytes.as_ptr());
        let mut prev = _mm512_setzero_si512();
        let mut err = _mm512_setzero_si512();
        let mut at = 0;
        while n - at >= 64 {
            // SAFETY: `at + 64 <= n`: the 64 bytes are in `bytes`.
            let cur = unsafe { _mm512_loadu_si512(p.add(at) as *const __m512i) };
            err = _mm512_or_si512(err, errors(prev, cur));
            prev = cur;
            at += 64;
        }
        if at < n {
            // 1 to 63 bytes left, then zeros: they end the string as the check wants.
            let mask = (1u64 << (n - at)) - 1;
            // SAFETY: the mask selects bytes `at..n`, all in `bytes`; masked-off bytes are
            // not read (a masked load does not fault on them).
            let cur = unsafe { _mm512_maskz_loadu_epi8(mask, p.add(at) as *const i8) };
            err = _mm512_or_si512(err, errors(prev, cur));
        } else {
            // The string ends a full block: its last three bytes must not start a
            // character they do not finish.
            err = _mm512_or_si512(err, _mm512_subs_epu8(prev, load(&LAST_MAX)));
        }
        _mm512_test_epi8_mask(err, err) == 0
    }
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
            for n in 0..=2 * BLOCK + 8 {
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
            let want = std::str::from_utf8(b).ok();
            assert_eq!(check(b), want, "{} bytes: {b:02x?}", b.len());
            assert_eq!(portable(b), want, "portable, {} bytes: {b:02x?}", b.len());
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

    /// The AVX-512 validator against the standard library, where a mistake would hide: every
    /// pair of bytes, and every lead byte followed by three bytes from each class the
    /// validator tells apart (every continuation range's first and last byte, ASCII, leads),
    /// placed alone, across the boundary of two blocks, at the end of a full block and at the
    /// end of a partial one.
    #[cfg(target_arch = "x86_64")]
    mod avx512_against_std {
        use super::super::avx512;

        /// Runs `f` when this processor has AVX-512; says so when it has not.
        fn on_avx512(f: impl FnOnce()) {
            if avx512::available() {
                f();
            } else {
                eprintln!("no AVX-512 here: the validator for it is not tested");
            }
        }

        fn agree(b: &[u8]) {
            // SAFETY: only called where `available()` holds.
            let got = unsafe { avx512::is_utf8(b) };
            assert_eq!(
                got,
                std::str::from_utf8(b).is_ok(),
                "{} bytes: {b:02x?}",
                b.len()
            );
        }

        /// `seq` placed in each of the layouts that matter to the validator.
        fn in_every_layout(seq: &[u8], buf: &mut Vec<u8>) {
            for (before, after) in [(0, 0), (62, 0), (63, 3), (61, 1), (126, 0), (60, 70)] {
                buf.clear();
                buf.resize(before, b'x');
                buf.extend_from_slice(seq);
                buf.resize(before + seq.len() + after, b'y');
                agree(buf);
            }
        }

        #[test]
        fn every_pair_of_bytes() {
            on_avx512(|| {
                let mut buf = Vec::new();
                let mut invalid = 0;
                for a in 0..=255u8 {
                    for b in 0..=255u8 {
                        in_every_layout(&[a, b], &mut buf);
                        invalid += usize::from(std::str::from_utf8(&[a, b]).is_err());
                    }
                }
                assert!(invalid > 40_000);
            });
        }

        #[test]
        fn every_lead_with_three_bytes_of_each_class() {
            const CLASSES: [u8; 19] = [
                0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed,
                0xef, 0xf0, 0xf4, 0xf5, 0xff,
            ];
            on_avx512(|| {
                let mut buf = Vec::new();
                let mut valid = 0;
                for a in 0xc0..=0xffu8 {
                    for b in CLASSES {
                        for c in CLASSES {
                            for d in CLASSES {
                                in_every_layout(&[a, b, c, d], &mut buf);
                                valid += usize::from(std::str::from_utf8(&[a, b, c, d]).is_ok());
                            }
                        }
                    }
                }
                assert!(valid > 1000);
            });
        }

        /// Mixed text of up to 300 bytes (characters of every width) with a few bytes
        /// replaced and the end cut anywhere, from a fixed seed.
        #[test]
        fn random_mixed_text() {
            const CHARS: [&str; 11] = [
                "a",
                "\u{7f}",
                "é",
                "\u{7ff}",
                "\u{800}",
                "你",
                "\u{d7ff}",
                "\u{e000}",
                "\u{ffff}",
                "😀",
                "\u{10ffff}",
            ];
            on_avx512(|| {
                let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
                let mut next = move || {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x
                };
                for _ in 0..20_000 {
                    let len = (next() % 300) as usize;
                    let mut b = Vec::new();
                    while b.len() < len {
                        b.extend_from_slice(CHARS[(next() % 11) as usize].as_bytes());
                    }
                    for _ in 0..next() % 3 {
                        if !b.is_empty() {
                            let i = next() as usize % b.len();
                            b[i] = next() as u8;
                        }
                    }
                    if next() % 2 == 0 && !b.is_empty() {
                        let cut = next() as usize % b.len();
                        b.truncate(cut);
                    }
                    agree(&b);
                }
            });
        }
    }
}
