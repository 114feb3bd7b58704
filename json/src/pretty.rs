//! Re-indenting compact JSON for people (the transcoder writes compact JSON).

/// `json` (valid, compact or not) with one key or element per line, indented by two spaces.
pub fn pretty(json: &str) -> String {
    let s = json.as_bytes();
    let mut out = Vec::with_capacity(s.len() * 2);
    let mut indent = 0usize;
    let mut i = 0;
    let newline = |out: &mut Vec<u8>, indent: usize| {
        out.push(b'\n');
        out.resize(out.len() + indent * 2, b' ');
    };
    while i < s.len() {
        let c = s[i];
        match c {
            b'"' => {
                let start = i;
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    i += if s[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(s.len());
                out.extend_from_slice(&s[start..i]);
                continue;
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let mut j = i + 1;
                while j < s.len() && s[j].is_ascii_whitespace() {
                    j += 1;
                }
                if s.get(j) == Some(&close) {
                    out.extend_from_slice(&[c, close]);
                    i = j + 1;
                    continue;
                }
                out.push(c);
                indent += 1;
                newline(&mut out, indent);
            }
            b'}' | b']' => {
                indent = indent.saturating_sub(1);
                newline(&mut out, indent);
                out.push(c);
            }
            b',' => {
                out.push(c);
                newline(&mut out, indent);
            }
            b':' => out.extend_from_slice(b": "),
            b' ' | b'\n' | b'\r' | b'\t' => {}
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
