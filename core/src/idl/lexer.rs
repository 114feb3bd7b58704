//! Tokens of the Thrift IDL with 1-based line and column (in characters). Comments are
//! dropped; `/** doc */` comments are cleaned up the way Apache Thrift does and remembered for
//! the token that follows them.

use std::path::Path;

use crate::error::{Error, ErrorKind, Location, Result};
use crate::schema::Span;

/// What a token is. Keywords are `Ident`s: the parser decides where a word is a keyword.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// A name, possibly dotted (`shared.SharedStruct`, `Enum.VALUE`), or a keyword.
    Ident(String),
    Int(i64),
    Double(f64),
    /// A string literal, escapes already applied.
    Literal(String),
    /// One of `{ } ( ) [ ] < > , ; : = * &`.
    Sym(u8),
    Eof,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
    /// Byte range of the token in the source, for messages.
    pub start: usize,
    pub end: usize,
    /// Index in [`Lexed::docs`] of the doc comment right before this token, if any.
    pub doc: Option<usize>,
}

/// A `/** ... */` comment.
#[derive(Clone, Debug)]
pub(crate) struct DocComment {
    /// Cleaned text; `None` when nothing is left after cleaning.
    pub text: Option<String>,
    /// Index of the token that follows the comment.
    pub next_token: usize,
}

#[derive(Debug)]
pub(crate) struct Lexed {
    /// Always ends with an `Eof` token.
    pub tokens: Vec<Token>,
    pub docs: Vec<DocComment>,
}

pub(crate) const SYMBOLS: &[u8] = b"{}()[]<>,;:=*&";

struct Lexer<'a> {
    src: &'a str,
    file: &'a Path,
    pos: usize,
    line: u32,
    col: u32,
}

/// Splits `src` into tokens. The last token is `Eof`, placed right after the last real token
/// so that "found end of file" errors point at the place where something is missing.
pub(crate) fn lex(src: &str, file: &Path) -> Result<Lexed> {
    let mut lx = Lexer {
        src,
        file,
        pos: 0,
        line: 1,
        col: 1,
    };
    if src.starts_with('\u{feff}') {
        lx.pos = '\u{feff}'.len_utf8();
    }
    let mut tokens: Vec<Token> = Vec::new();
    let mut docs: Vec<DocComment> = Vec::new();
    let mut pending_doc = None;
    let mut end_span = Span { line: 1, column: 1 };
    loop {
        lx.skip_trivia(&mut docs, &mut pending_doc, tokens.len())?;
        let span = lx.span();
        let start = lx.pos;
        let Some(c) = lx.peek() else { break };
        let tok = if c.is_ascii_alphabetic() || c == '_' {
            lx.ident()
        } else if c.is_ascii_digit()
            || (c == '.' && lx.peek_nth(1).is_some_and(|d| d.is_ascii_digit()))
            || ((c == '+' || c == '-')
                && lx.peek_nth(1).is_some_and(|d| {
                    d.is_ascii_digit()
                        || (d == '.' && lx.peek_nth(2).is_some_and(|e| e.is_ascii_digit()))
                }))
        {
            lx.number(span)?
        } else if c == '"' || c == '\'' {
            lx.literal(span)?
        } else if c.is_ascii() && SYMBOLS.contains(&(c as u8)) {
            lx.bump();
            Tok::Sym(c as u8)
        } else {
            return Err(lx.error(span, format!("unexpected character '{}'", c.escape_debug())));
        };
        tokens.push(Token {
            tok,
            span,
            start,
            end: lx.pos,
            doc: pending_doc.take(),
        });
        end_span = lx.span();
    }
    tokens.push(Token {
        tok: Tok::Eof,
        span: end_span,
        start: src.len(),
        end: src.len(),
        doc: pending_doc.take(),
    });
    Ok(Lexed { tokens, docs })
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_nth(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.col = 1;
        } else {
            self.col = self.col.saturating_add(1);
        }
        Some(c)
    }

    /// Moves to byte `pos` (a char boundary ahead of the current position).
    fn advance_to(&mut self, pos: usize) {
        while self.pos < pos {
            if self.bump().is_none() {
                break;
            }
        }
    }

    fn span(&self) -> Span {
        Span {
            line: self.line,
            column: self.col,
        }
    }

    #[cold]
    fn error(&self, span: Span, detail: String) -> Error {
        let loc = Location {
            file: self.file.to_path_buf(),
            line: span.line,
            column: span.column,
        };
        Error::idl(ErrorKind::IdlSyntax, loc, detail)
    }

    /// Skips whitespace and comments; doc comments are recorded.
    fn skip_trivia(
        &mut self,
        docs: &mut Vec<DocComment>,
        pending_doc: &mut Option<usize>,
        next_token: usize,
    ) -> Result<()> {
        loop {
            let rest = self.rest();
            if rest.starts_with([' ', '\t', '\r', '\n']) {
                self.bump();
            } else if rest.starts_with('#') || rest.starts_with("//") {
                let len = rest.find('\n').unwrap_or(rest.len());
                self.advance_to(self.pos + len);
            } else if let Some(body) = rest.strip_prefix("/*") {
                let span = self.span();
                let stars = body.bytes().take_while(|&b| b == b'*').count();
                if stars >= 1 && body.as_bytes().get(stars) == Some(&b'/') {
                    // `/**/`, `/***/`: an empty comment, not a doc comment.
                    self.advance_to(self.pos + 2 + stars + 1);
                    continue;
                }
                let is_doc = stars >= 1;
                let content_start = if is_doc { 3 } else { 2 };
                let Some(close) = rest.get(content_start..).and_then(|s| s.find("*/")) else {
                    return Err(self.error(span, "unterminated comment".into()));
                };
                if is_doc {
                    let content = &rest[content_start..content_start + close];
                    // Apache replaces the closing `*/` by one space before cleaning.
                    let text = clean_doc(&format!("{content} "));
                    docs.push(DocComment { text, next_token });
                    *pending_doc = Some(docs.len() - 1);
                }
                self.advance_to(self.pos + content_start + close + 2);
            } else {
                return Ok(());
            }
        }
    }

    fn ident(&mut self) -> Tok {
        let start = self.pos;
        self.bump();
        loop {
            match self.peek() {
                Some(c) if is_ident_char(c) => {
                    self.bump();
                }
                Some('.') if self.peek_nth(1).is_some_and(is_ident_char) => {
                    self.bump();
                    self.bump();
                }
                _ => break,
            }
        }
        Tok::Ident(self.src[start..self.pos].to_owned())
    }

    fn number(&mut self, span: Span) -> Result<Tok> {
        let start = self.pos;
        let negative = self.peek() == Some('-');
        if matches!(self.peek(), Some('+' | '-')) {
            self.bump();
        }
        let rest = self.rest();
        if rest.starts_with("0x") && rest[2..].starts_with(|c: char| c.is_ascii_hexdigit()) {
            self.advance_to(self.pos + 2);
            let digits_start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.bump();
            }
            let digits = &self.src[digits_start..self.pos];
            self.check_number_end(start, span)?;
            let text = &self.src[start..self.pos];
            let magnitude = i64::from_str_radix(digits, 16).map_err(|_| {
                self.error(span, format!("integer '{text}' is out of range for i64"))
            })?;
            return Ok(Tok::Int(if negative { -magnitude } else { magnitude }));
        }
        let mut is_double = false;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        if self.peek() == Some('.') && self.peek_nth(1).is_some_and(|c| c.is_ascii_digit()) {
            is_double = true;
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let digit_at = if matches!(self.peek_nth(1), Some('+' | '-')) {
                2
            } else {
                1
            };
            if self.peek_nth(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                is_double = true;
                for _ in 0..=digit_at {
                    self.bump();
                }
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                }
            }
        }
        self.check_number_end(start, span)?;
        let text = &self.src[start..self.pos];
        if is_double {
            match text.parse::<f64>() {
                Ok(d) if d.is_finite() => Ok(Tok::Double(d)),
                _ => Err(self.error(span, format!("double '{text}' is out of range"))),
            }
        } else {
            text.parse::<i64>()
                .map(Tok::Int)
                .map_err(|_| self.error(span, format!("integer '{text}' is out of range for i64")))
        }
    }

    /// A number directly followed by a letter (`12ab`, `1e`, `0x1g`) is an error, not two tokens.
    fn check_number_end(&mut self, start: usize, span: Span) -> Result<()> {
        if self.peek().is_some_and(is_ident_char) {
            while self.peek().is_some_and(is_ident_char) {
                self.bump();
            }
            let text = &self.src[start..self.pos];
            return Err(self.error(span, format!("invalid number '{text}'")));
        }
        Ok(())
    }

    fn literal(&mut self, span: Span) -> Result<Tok> {
        let Some(quote) = self.bump() else {
            return Err(self.error(span, "unterminated string".into()));
        };
        let mut out = String::new();
        loop {
            let here = self.span();
            match self.bump() {
                None => return Err(self.error(span, "unterminated string".into())),
                Some('\n') => {
                    return Err(self.error(
                        span,
                        "unterminated string (a string cannot span lines)".into(),
                    ));
                }
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('"') => out.push('"'),
                    Some('\'') => out.push('\''),
                    Some('\\') => out.push('\\'),
                    Some(c) => {
                        return Err(self.error(
                            here,
                            format!("invalid escape '\\{}' in string", c.escape_debug()),
                        ));
                    }
                    None => return Err(self.error(span, "unterminated string".into())),
                },
                Some(c) if c == quote => return Ok(Tok::Literal(out)),
                Some(c) => out.push(c),
            }
        }
    }
}

/// Cleans a doc comment the way the Apache compiler does, so that our docs equal its docs:
/// drops a whitespace-only last line, a common `*` prefix and the common indentation of the
/// lines after the first, trailing blanks, and an empty first line. Every line ends with `\n`.
pub(crate) fn clean_doc(raw: &str) -> Option<String> {
    let text: String = raw.chars().filter(|&c| c != '\r').collect();
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    if lines.last().is_some_and(|l| is_blank(l)) {
        lines.pop();
    }
    let (first, others) = lines.split_first_mut()?;
    *first = first.trim_start_matches([' ', '\t']).to_owned();

    // A `*` at the same column on every non-blank line after the first is a prefix to drop.
    let mut have_prefix = true;
    let mut prefix: Option<usize> = None;
    for line in others.iter_mut() {
        if line.is_empty() {
            continue;
        }
        let pos = first_non_blank(line);
        match (prefix, pos) {
            (_, None) => line.clear(),
            (None, Some(p)) if line.as_bytes()[p] == b'*' => prefix = Some(p),
            (Some(len), Some(p)) if p == len && line.as_bytes()[p] == b'*' => {}
            _ => {
                have_prefix = false;
                break;
            }
        }
    }
    if have_prefix {
        let cut = prefix.unwrap_or(0) + 1;
        for line in others.iter_mut() {
            drop_prefix(line, cut);
        }
    }

    let indent = others.iter().filter_map(|l| first_non_blank(l)).min();
    if let Some(indent) = indent {
        for line in others.iter_mut() {
            drop_prefix(line, indent);
        }
    }

    for line in lines.iter_mut() {
        if !is_blank(line) {
            let kept = line.trim_end_matches([' ', '\t']).len();
            line.truncate(kept);
        }
    }
    if lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    let mut out = String::new();
    for line in &lines {
        out.push_str(line);
        out.push('\n');
    }
    Some(out)
}

fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| b == b' ' || b == b'\t')
}

fn first_non_blank(s: &str) -> Option<usize> {
    s.bytes().position(|b| b != b' ' && b != b'\t')
}

/// Drops the first `n` bytes (all blanks or the prefix star, so on char boundaries) or the
/// whole line if it is shorter.
fn drop_prefix(line: &mut String, n: usize) {
    match line.get(n..) {
        Some(rest) => *line = rest.to_owned(),
        None if n >= line.len() => line.clear(),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src, Path::new("t.thrift"))
            .unwrap()
            .tokens
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    fn lex_err(src: &str) -> String {
        lex(src, Path::new("t.thrift")).unwrap_err().to_string()
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("1 -2 +3 0x1F -0x1f 085 1.5 -1.5e-5 +1.5E+5 .13 1e10"),
            vec![
                Tok::Int(1),
                Tok::Int(-2),
                Tok::Int(3),
                Tok::Int(31),
                Tok::Int(-31),
                Tok::Int(85),
                Tok::Double(1.5),
                Tok::Double(-1.5e-5),
                Tok::Double(1.5e5),
                Tok::Double(0.13),
                Tok::Double(1e10),
                Tok::Eof
            ]
        );
        assert_eq!(toks("e10"), vec![Tok::Ident("e10".into()), Tok::Eof]);
        assert_eq!(toks("-9223372036854775808")[0], Tok::Int(i64::MIN));
        assert_eq!(toks("0x7fffffffffffffff")[0], Tok::Int(i64::MAX));
        assert_eq!(
            lex_err("const i64 x = 9876543210987654321"),
            "idl error at t.thrift:1:15: integer '9876543210987654321' is out of range for i64"
        );
        assert!(lex_err("0xffffffffffffffff").contains("out of range"));
        assert_eq!(
            lex_err("12ab"),
            "idl error at t.thrift:1:1: invalid number '12ab'"
        );
        assert_eq!(
            lex_err("1e"),
            "idl error at t.thrift:1:1: invalid number '1e'"
        );
        assert!(lex_err("1e999").contains("double '1e999' is out of range"));
    }

    #[test]
    fn identifiers_symbols_and_strings() {
        assert_eq!(
            toks("a.b_1.C _x {}"),
            vec![
                Tok::Ident("a.b_1.C".into()),
                Tok::Ident("_x".into()),
                Tok::Sym(b'{'),
                Tok::Sym(b'}'),
                Tok::Eof
            ]
        );
        assert_eq!(
            lex_err("x. y"),
            "idl error at t.thrift:1:2: unexpected character '.'"
        );
        assert_eq!(toks("{}()[]<>,;:=*&").len(), 15,);
        assert_eq!(
            toks("'it' \"a\\\"b\\n\\t\\\\\""),
            vec![
                Tok::Literal("it".into()),
                Tok::Literal("a\"b\n\t\\".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            lex_err("\"abc"),
            "idl error at t.thrift:1:1: unterminated string"
        );
        assert_eq!(
            lex_err("x = \"ab\ncd\""),
            "idl error at t.thrift:1:5: unterminated string (a string cannot span lines)"
        );
        assert_eq!(
            lex_err("  'a\\qb'"),
            "idl error at t.thrift:1:5: invalid escape '\\q' in string"
        );
        assert_eq!(
            lex_err("\n  @"),
            "idl error at t.thrift:2:3: unexpected character '@'"
        );
        assert_eq!(
            lex_err("é"),
            "idl error at t.thrift:1:1: unexpected character 'é'"
        );
        // Columns count characters, not bytes.
        assert_eq!(
            lex_err("'é' @"),
            "idl error at t.thrift:1:5: unexpected character '@'"
        );
    }

    #[test]
    fn comments_and_docs() {
        let src = "# hash\n// slashes\n/* plain */ /**/ /***/ /** doc */ a /** d2 */ /* x */ b";
        let lexed = lex(src, Path::new("t.thrift")).unwrap();
        assert_eq!(lexed.tokens.len(), 3);
        assert_eq!(
            lexed.tokens[0].span,
            Span {
                line: 3,
                column: 35
            }
        );
        let doc = |t: &Token| t.doc.and_then(|i| lexed.docs[i].text.clone());
        assert_eq!(doc(&lexed.tokens[0]).as_deref(), Some("doc\n"));
        assert_eq!(doc(&lexed.tokens[1]).as_deref(), Some("d2\n"));
        assert_eq!(lexed.tokens[2].tok, Tok::Eof);
        assert_eq!(
            lex_err("a /* open"),
            "idl error at t.thrift:1:3: unterminated comment"
        );
        assert_eq!(
            lex_err("/** open *"),
            "idl error at t.thrift:1:1: unterminated comment"
        );
        // Eof sits right after the last token.
        let lexed = lex("a = \n\n  // c\n", Path::new("t.thrift")).unwrap();
        assert_eq!(lexed.tokens[2].span, Span { line: 1, column: 4 });
    }

    #[test]
    fn doc_cleanup_matches_apache() {
        let c = |s: &str| clean_doc(&format!("{s} "));
        assert_eq!(c(" Simple ").as_deref(), Some("Simple\n"));
        assert_eq!(c("\n * a\n *\n * b\n ").as_deref(), Some("a\n\nb\n"));
        assert_eq!(
            c("\n *    INDENTED\n * less\n ").as_deref(),
            Some("   INDENTED\nless\n")
        );
        assert_eq!(
            c(" Irregular.\n * x\n  * y ").as_deref(),
            Some("Irregular.\n* x\n * y\n")
        );
        assert_eq!(c("\n*\n*\n").as_deref(), Some("\n\n"));
        assert_eq!(c("* X *").as_deref(), Some("* X *\n"));
        assert_eq!(
            c("\n  No stars.\n    Indented.\n    ").as_deref(),
            Some("No stars.\n  Indented.\n")
        );
        assert_eq!(c("").as_deref(), None);
    }
}
