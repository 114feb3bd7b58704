//! Text kernels of the transcoder: JSON string escaping and base64 both ways, written for
//! throughput without `unsafe` — output goes to a zero-filled region of the `Vec` (resized
//! ahead, truncated at the end) with word-wide stores that the next store partly overwrites.

/// Which bytes need escaping in a JSON string (as serde_json escapes them): 0 none, else the
/// escape letter (`u` for `\u00XX`).
pub(crate) static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Per byte: its escaped form in the low bytes of a word (little-endian: first byte lowest),
/// and its length in the top three bits (escapes are at most 6 bytes long): one load per
/// byte, and a length the compiler knows is below 8.
static ESCAPED: [u64; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let e = ESCAPE[i];
        t[i] = if e == 0 {
            i as u64 | 1 << 61
        } else if e == b'u' {
            u64::from_le_bytes([b'\\', b'u', b'0', b'0', HEX[i >> 4], HEX[i & 15], 0, 6 << 5])
        } else {
            b'\\' as u64 | (e as u64) << 8 | 2 << 61
        };
        i += 1;
    }
    t
};

/// The high bit of each byte of `w` that needs escaping in a JSON string (`"`, `\`, or below
/// 0x20), exactly (no carries between bytes).
#[inline(always)]
pub(crate) fn special_mask(w: u64) -> u64 {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HI: u64 = 0x8080_8080_8080_8080;
    const LO: u64 = 0x0101_0101_0101_0101;
    // High bit set where the byte is >= 0x20 (bytes >= 0x80 count as >= 0x20).
    let ge20 = ((w & LO7) + LO * (0x80 - 0x20)) | w;
    let zero = |x: u64| !(((x & LO7) + LO7) | x) & HI;
    (!ge20 & HI) | zero(w ^ (LO * b'"' as u64)) | zero(w ^ (LO * b'\\' as u64))
}

#[inline(always)]
fn word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))
}

/// Index of the first byte at or after `i` that needs escaping (or `s.len()`).
#[inline(always)]
pub(crate) fn next_special(s: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = s.get(i..i + 8) {
        let m = special_mask(word(chunk));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = s.get(i) {
        if ESCAPE[b as usize] != 0 {
            return i;
        }
        i += 1;
    }
    i
}

/// Room kept free past the write position in the word loop: the window a dirty word is
/// escaped into (its offsets are sums of lengths below 8, so the compiler knows they stay
/// within 64 bytes: no bounds checks), which covers one word escaped (8 × 6 bytes) plus the
/// tail of an over-long store.
const ROOM: usize = 72;
const WINDOW: usize = 64;
/// Room for the last bytes (fewer than 8, escaped, plus an over-long store) and the quote.
const TAIL_ROOM: usize = 56;

/// Makes `out.len()` at least `j + ROOM + more` (zero-filled).
#[cold]
#[inline(never)]
fn grow(out: &mut Vec<u8>, j: usize, more: usize) {
    out.resize(j + ROOM + more, 0);
}

/// Appends `s` as a quoted JSON string (escaping as serde_json does); returns whether `s` is
/// all ASCII (then it is valid UTF-8 and needs no other check: the words are OR-ed together as
/// they pass, so the answer costs one instruction per word).
#[inline]
pub(crate) fn write_str(out: &mut Vec<u8>, s: &[u8]) -> bool {
    let mut j = out.len();
    // Most text needs few escapes: room for a quarter more, grown when that is not enough.
    // Text shorter than a word only goes through the byte loop at the end.
    let room = if s.len() < 8 { TAIL_ROOM } else { ROOM };
    out.resize(j + s.len() + s.len() / 4 + room, 0);
    out[j] = b'"';
    j += 1;
    let mut i = 0;
    let mut all = 0u64;
    loop {
        // A plain slice, so that the stores do not make the compiler reload the `Vec`.
        let buf = out.as_mut_slice();
        while j + ROOM <= buf.len() {
            let Some(chunk) = s.get(i..i + 8) else { break };
            let w = word(chunk);
            all |= w;
            if special_mask(w) == 0 {
                buf[j..j + 8].copy_from_slice(chunk);
                i += 8;
                j += 8;
                continue;
            }
            // Each byte's escaped form (the byte itself when it needs none) as one word
            // store; the next store overwrites what lies past its length (its length byte
            // too). The positions only depend on the table's lengths, so the stores do not
            // wait on each other. In a fixed window of 64 bytes, offsets that are sums of
            // lengths below 8 (the last store starts at 49 at most) need no bounds checks.
            let Some(win) = buf[j..].first_chunk_mut::<WINDOW>() else {
                break;
            };
            // The bytes come from the word in a register (one load per byte, the table's).
            let mut k = 0usize;
            let mut x = w;
            for _ in 0..8 {
                let e = ESCAPED[(x & 0xff) as usize];
                x >>= 8;
                win[k..k + 8].copy_from_slice(&e.to_le_bytes());
                k += (e >> 61) as usize;
            }
            i += 8;
            j += k;
        }
        if i + 8 <= s.len() || j + TAIL_ROOM > buf.len() {
            grow(out, j, (s.len() - i) * 2);
            continue;
        }
        // Fewer than 8 bytes left.
        for &b in &s[i..] {
            all |= b as u64;
            let e = ESCAPED[b as usize];
            buf[j..j + 8].copy_from_slice(&e.to_le_bytes());
            j += (e >> 61) as usize;
        }
        buf[j] = b'"';
        break;
    }
    out.truncate(j + 1);
    all & 0x8080_8080_8080_8080 == 0
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Two base64 characters per 12 bits, as the little-endian bytes of a `u16`.
static B64_PAIRS: [u16; 4096] = {
    let mut t = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = B64[i >> 6] as u16 | (B64[i & 63] as u16) << 8;
        i += 1;
    }
    t
};

/// The eight base64 characters of the low 48 bits of `x`, as the bytes of a little-endian word.
#[inline(always)]
fn b64_word(x: u64) -> u64 {
    let pair = |k: u32| B64_PAIRS[((x >> k) & 0xfff) as usize] as u64;
    pair(36) | pair(24) << 16 | pair(12) << 32 | pair(0) << 48
}

/// Appends the standard, padded base64 form of `data` (what `dynthrift_interp::serde` writes)
/// as a JSON string, in quotes.
pub(crate) fn base64_encode(data: &[u8], out: &mut Vec<u8>) {
    let n = data.len().div_ceil(3) * 4;
    let quote = out.len();
    out.resize(quote + 1 + n + 8, 0);
    out[quote] = b'"';
    let start = quote + 1;
    let out_all = out;
    let out = out_all.as_mut_slice();
    // 24 bytes in, 32 characters out, four independent words (no bounds checks: the chunks
    // have fixed sizes).
    let whole = data.len() / 24;
    for (c, d) in data
        .chunks_exact(24)
        .zip(out[start..start + whole * 32].chunks_exact_mut(32))
    {
        let be = |k: usize| u64::from_be_bytes(c[k..k + 8].try_into().unwrap_or([0; 8]));
        let xs = [
            be(0) >> 16,
            be(6) >> 16,
            be(12) >> 16,
            be(16) & 0xffff_ffff_ffff,
        ];
        for (x, d) in xs.into_iter().zip(d.chunks_exact_mut(8)) {
            d.copy_from_slice(&b64_word(x).to_le_bytes());
        }
    }
    let mut i = whole * 24;
    let mut j = start + whole * 32;
    // Six bytes in (read as eight), eight characters out.
    while let Some(chunk) = data.get(i..i + 8) {
        let x = u64::from_be_bytes(chunk.try_into().unwrap_or([0; 8])) >> 16;
        out[j..j + 8].copy_from_slice(&b64_word(x).to_le_bytes());
        i += 6;
        j += 8;
    }
    let rest = &data[i..];
    let mut groups = rest.chunks_exact(3);
    for c in &mut groups {
        let x = (c[0] as usize) << 16 | (c[1] as usize) << 8 | c[2] as usize;
        let w = B64_PAIRS[x >> 12] as u32 | (B64_PAIRS[x & 0xfff] as u32) << 16;
        out[j..j + 4].copy_from_slice(&w.to_le_bytes());
        j += 4;
    }
    let tail = match *groups.remainder() {
        [a] => [
            B64[(a >> 2) as usize],
            B64[((a & 3) << 4) as usize],
            b'=',
            b'=',
        ],
        [a, b] => {
            let x = (a as usize) << 8 | b as usize;
            [B64[x >> 10], B64[(x >> 4) & 63], B64[(x << 2) & 63], b'=']
        }
        _ => {
            out[j] = b'"';
            out_all.truncate(j + 1);
            return;
        }
    };
    out[j..j + 4].copy_from_slice(&tail);
    out[j + 4] = b'"';
    out_all.truncate(j + 5);
}

const BAD: u32 = 1 << 31;

/// `DEC[k][c]`: the 6 bits of base64 character `c` (standard or URL-safe alphabet) shifted
/// into place for position `k` of a group of four, `BAD` for any other byte.
static DEC: [[u32; 256]; 4] = {
    let mut t = [[BAD; 256]; 4];
    let mut k = 0;
    while k < 4 {
        let shift = 18 - 6 * k;
        let mut i = 0;
        while i < 64 {
            t[k][B64[i] as usize] = (i as u32) << shift;
            i += 1;
        }
        t[k][b'-' as usize] = 62 << shift;
        t[k][b'_' as usize] = 63 << shift;
        k += 1;
    }
    t
};

#[inline(always)]
fn group(c: &[u8]) -> u32 {
    DEC[0][c[0] as usize] | DEC[1][c[1] as usize] | DEC[2][c[2] as usize] | DEC[3][c[3] as usize]
}

/// Decodes the longest prefix of `text` made of whole groups of eight base64 characters
/// (no padding) onto `out`; returns how many characters it consumed (a multiple of 8). The
/// caller decodes what follows (a shorter or padded tail, or an error) the careful way.
#[inline]
pub(crate) fn base64_decode_groups(text: &[u8], out: &mut Vec<u8>) -> usize {
    let base = out.len();
    let mut j = base;
    // `text` runs on past the string: grow the room as groups come.
    out.resize(j + (text.len() / 8 * 6).min(504) + 8, 0);
    let mut i = 0;
    'grow: loop {
        let buf = out.as_mut_slice();
        while let Some(c) = text.get(i..i + 8) {
            if j + 8 > buf.len() {
                let more = (j - base).min(text.len() / 8 * 6);
                out.resize(j + 8 + more, 0);
                continue 'grow;
            }
            let (a, b) = (group(&c[..4]), group(&c[4..]));
            if (a | b) & BAD != 0 {
                break;
            }
            let w = (a as u64) << 40 | (b as u64) << 16;
            buf[j..j + 8].copy_from_slice(&w.to_be_bytes());
            i += 8;
            j += 6;
        }
        break;
    }
    out.truncate(j);
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_escaped(s: &str) -> Vec<u8> {
        serde_json::to_vec(s).unwrap()
    }

    #[test]
    fn escaping_matches_serde_json() {
        let mut all = String::new();
        for c in 0u8..0x80 {
            all.push(c as char);
        }
        let cases = [
            String::new(),
            "a".into(),
            "plain ascii text that is long enough for words".into(),
            "你好,\u{8}\n\r\t世界".repeat(16),
            "\u{1}".repeat(300),
            "\"\\".repeat(41),
            all.repeat(3),
            "é\u{7f}\u{1f}x".repeat(9),
        ];
        for s in &cases {
            for cut in 0..s.len().min(20) {
                let Some(t) = s.get(cut..) else { continue };
                let mut out = b"prefix".to_vec();
                let ascii = write_str(&mut out, t.as_bytes());
                assert_eq!(ascii, t.is_ascii(), "{t:?}");
                assert_eq!(&out[6..], serde_escaped(t).as_slice(), "{t:?}");
                assert_eq!(&out[..6], b"prefix");
            }
        }
    }

    #[test]
    fn next_special_finds_the_first() {
        let s = b"abcdefghijklmnop\"qrs\\";
        assert_eq!(next_special(s, 0), 16);
        assert_eq!(next_special(s, 17), 20);
        assert_eq!(next_special(b"abc", 0), 3);
        assert_eq!(next_special(b"abcdefgh\x01", 0), 8);
    }

    #[test]
    fn base64_matches_the_reference() {
        for n in 0..70usize {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let mut ours = vec![7u8];
            base64_encode(&data, &mut ours);
            let mut theirs = vec![7u8, b'"'];
            dynthrift_interp::serde::base64_encode(&data, &mut theirs);
            theirs.push(b'"');
            assert_eq!(ours, theirs, "encode {n}");
            let text = &ours[2..ours.len() - 1];
            let mut back = vec![9u8];
            let used = base64_decode_groups(text, &mut back);
            assert_eq!(used % 8, 0);
            dynthrift_interp::serde::base64_decode(&text[used..], &mut back).unwrap();
            assert_eq!(&back[1..], data.as_slice(), "decode {n}");
        }
        // URL-safe characters decode; a bad character stops the groups before its group.
        let mut out = Vec::new();
        assert_eq!(base64_decode_groups(b"-_-_-_-_AAAA*AAA", &mut out), 8);
        assert_eq!(out, [0xfb, 0xff, 0xbf, 0xfb, 0xff, 0xbf]);
        out.clear();
        assert_eq!(base64_decode_groups(b"AAAAAAA=", &mut out), 0);
        assert!(out.is_empty());
    }
}
