//! The IDL front end: lexing, parsing and resolution of `.thrift` files into a [`Schema`].
//!
//! ```no_run
//! use dynthrift_core::idl::Loader;
//! let schema = Loader::new().include_dir("idl/common").load_file("idl/service.thrift")?;
//! let req = schema.expect_struct("ExampleReq")?;
//! println!("{schema}"); // the resolved model as IDL-like text
//! # Ok::<(), dynthrift_core::Error>(())
//! ```
//!
//! # The language accepted
//!
//! The language of the Apache Thrift compiler, 0.17 and later (the corpus in
//! `testdata/idl/` is checked against 0.17's models), with these decisions:
//!
//! - **Reserved words.** The IDL's own keywords (`struct`, `list`, `required`, `uuid`, ...)
//!   cannot name definitions, enum values or functions. Field and argument names may be
//!   keywords (`1: string type`, `2: i32 required`), as newer Apache compilers allow (0.17
//!   does not). Reserved
//!   words of target languages (`next`, `self`, `end`, ...) are ordinary names: no code is
//!   generated, so nothing can clash (Apache's generators reject some of them).
//! - **Field ids.** Fields without an id get -1, -2, ... within each struct or argument list,
//!   as Apache assigns them. Like Apache, a written id of zero or less is treated as missing.
//!   Ids above 32767 are an error (Apache only warns and truncates).
//! - **Requiredness.** As in Apache, `optional` on a function argument is ignored, and every
//!   member of a union is optional, whatever is written.
//! - **Constants.** Values are checked against the declared type: integers must fit (`i8`,
//!   `i16`, `i32`), `bool` takes `true`, `false`, `0` or `1`, enums take `Enum.VALUE` (also
//!   `file.Enum.VALUE`) or an integer that is a value of the enum, `double` takes integers,
//!   `binary` and `uuid` take strings. `{}` is also an empty list or set and `[]` an empty map
//!   (Apache accepts both). Struct constants need not set required fields (Apache agrees).
//!   Duplicates in sets, maps and struct constants are kept as written.
//! - **Forward references** to types, constants and services are allowed; cycles are errors.
//! - **Headers** (`include`, `namespace`, `cpp_include`) may appear after definitions, and
//!   stray `;` or `,` between definitions are skipped.
//! - **Dialect.** Annotations after a constant (thriftpy2) are accepted and dropped; so are
//!   `cpp_type`, `&` (C++ references), `xsd_*` and annotations on a namespace. `async` is
//!   the old spelling of `oneway`.
//! - **Removed syntax** is an error that says what replaced it: `senum`, `slist`,
//!   `java_package` and the other pre-`namespace` declarations.
//! - **Services.** `throws` lists exceptions only; oneway functions return `void` and do not
//!   throw.
//! - **Doc comments** `/** ... */` belong to the definition, field, enum value or function
//!   they precede, cleaned up exactly as Apache does. A file's doc is its first doc comment
//!   when no header comes before it and a header (or the end of the file) comes after it.
//!
//! Nesting of types and values is limited to [`MAX_NESTING`] levels, includes to
//! [`MAX_INCLUDE_DEPTH`] files, and all constants of a schema together to a million values
//! (constants built from constants can grow exponentially), so arbitrary input gives an
//! error, never a stack overflow or a runaway allocation.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Location, Result};
use crate::schema::{FileId, Schema, Span};

mod ast;
mod lexer;
mod parser;
mod print;
mod resolve;

use resolve::SourceFile;

/// The deepest nesting of types, constant values, typedef chains and constant references.
pub const MAX_NESTING: usize = 256;

/// The longest chain of includes.
pub const MAX_INCLUDE_DEPTH: usize = 64;

/// Loads IDL files with their includes and resolves them into a [`Schema`].
///
/// An `include "x.thrift"` is looked up relative to the including file's directory first,
/// then in each include directory in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct Loader {
    include_dirs: Vec<PathBuf>,
}

impl Loader {
    pub fn new() -> Loader {
        Loader::default()
    }

    /// Adds a directory to search for included files.
    pub fn include_dir(mut self, dir: impl Into<PathBuf>) -> Loader {
        self.include_dirs.push(dir.into());
        self
    }

    /// Loads `path` and everything it includes. The root file is `files[0]` of the schema.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<Schema> {
        let path = path.as_ref();
        let text = read_text(path)?;
        let key = std::fs::canonicalize(path).ok();
        let dir = path.parent().map(Path::to_path_buf);
        self.load(path.to_path_buf(), key, dir, &text)
    }

    /// Loads IDL text that has no file. `file_name` names it in errors and in the schema;
    /// its includes are looked up in the include directories only.
    pub fn load_str(&self, file_name: &str, text: &str) -> Result<Schema> {
        self.load(PathBuf::from(file_name), None, None, text)
    }

    fn load(
        &self,
        path: PathBuf,
        key: Option<PathBuf>,
        dir: Option<PathBuf>,
        text: &str,
    ) -> Result<Schema> {
        let mut load = Load {
            loader: self,
            files: Vec::new(),
            by_key: HashMap::new(),
            active: Vec::new(),
        };
        load.file(path, key, dir, text)?;
        let files: Option<Vec<SourceFile>> = load.files.into_iter().collect();
        let files = files.ok_or_else(|| Error::schema("internal error: a file was not loaded"))?;
        resolve::resolve(&files)
    }
}

/// Loads a file and its includes with no include directories.
pub fn parse_file(path: impl AsRef<Path>) -> Result<Schema> {
    Loader::new().load_file(path)
}

/// Parses IDL text (named `<input>` in errors); it may not include other files.
pub fn parse_str(text: &str) -> Result<Schema> {
    Loader::new().load_str("<input>", text)
}

/// Reads a file as UTF-8.
fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(e, Some(path.to_path_buf())))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // The prefix is valid UTF-8 by construction.
        let prefix = std::str::from_utf8(valid).unwrap_or("");
        let line = prefix.matches('\n').count() + 1;
        let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let loc = Location {
            file: path.to_path_buf(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        };
        Error::idl(ErrorKind::IdlSyntax, loc, "file is not valid utf-8")
    })
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

struct Load<'l> {
    loader: &'l Loader,
    /// `None` while a file's includes are being loaded.
    files: Vec<Option<SourceFile>>,
    /// Canonical path to file, so that a file reached twice is loaded once.
    by_key: HashMap<PathBuf, FileId>,
    /// The chain of files being loaded (id and file name), for include cycles.
    active: Vec<(FileId, String)>,
}

impl Load<'_> {
    fn file(
        &mut self,
        path: PathBuf,
        key: Option<PathBuf>,
        dir: Option<PathBuf>,
        text: &str,
    ) -> Result<FileId> {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(None);
        if let Some(key) = key {
            self.by_key.insert(key, id);
        }
        self.active.push((id, file_label(&path)));
        let doc = parser::parse(text, &path)?;
        let error = |span: Span, detail: String| {
            let loc = Location {
                file: path.clone(),
                line: span.line,
                column: span.column,
            };
            Error::idl(ErrorKind::IdlSemantic, loc, detail)
        };
        let mut includes = Vec::new();
        let mut include_names: HashMap<String, FileId> = HashMap::new();
        for inc in &doc.includes {
            let Some(found) = self.find(&inc.path, dir.as_deref()) else {
                let mut searched: Vec<String> =
                    dir.iter().map(|d| format!("'{}'", d.display())).collect();
                searched.extend(
                    self.loader
                        .include_dirs
                        .iter()
                        .map(|d| format!("'{}'", d.display())),
                );
                let hint = if searched.is_empty() {
                    " (no include directories)".to_owned()
                } else {
                    format!(" (searched {})", searched.join(", "))
                };
                return Err(error(
                    inc.span,
                    format!("cannot find include file '{}'{hint}", inc.path),
                ));
            };
            let key = std::fs::canonicalize(&found).unwrap_or_else(|_| found.clone());
            let fid = match self.by_key.get(&key) {
                Some(&fid) => {
                    if let Some(pos) = self.active.iter().position(|(a, _)| *a == fid) {
                        let mut chain: Vec<&str> =
                            self.active[pos..].iter().map(|(_, l)| l.as_str()).collect();
                        let last = file_label(&found);
                        chain.push(&last);
                        return Err(error(
                            inc.span,
                            format!("include cycle: {}", chain.join(" -> ")),
                        ));
                    }
                    fid
                }
                None => {
                    if self.active.len() > MAX_INCLUDE_DEPTH {
                        return Err(error(
                            inc.span,
                            format!("includes nested deeper than {MAX_INCLUDE_DEPTH} files"),
                        ));
                    }
                    let text = read_text(&found)?;
                    let parent = found.parent().map(Path::to_path_buf);
                    self.file(found, Some(key), parent, &text)?
                }
            };
            let name = stem(Path::new(&inc.path));
            match include_names.get(&name) {
                Some(&other) if other == fid => continue,
                Some(_) => {
                    return Err(error(
                        inc.span,
                        format!("another included file is also named '{name}'"),
                    ));
                }
                None => {}
            }
            include_names.insert(name, fid);
            includes.push(fid);
        }
        self.active.pop();
        let name = stem(&path);
        if let Some(slot) = self.files.get_mut(id.0 as usize) {
            *slot = Some(SourceFile {
                path,
                name,
                doc,
                includes,
                include_names,
            });
        }
        Ok(id)
    }

    fn find(&self, include: &str, dir: Option<&Path>) -> Option<PathBuf> {
        let p = Path::new(include);
        if p.is_absolute() {
            return p.is_file().then(|| p.to_path_buf());
        }
        dir.into_iter()
            .chain(self.loader.include_dirs.iter().map(PathBuf::as_path))
            .map(|d| d.join(p))
            .find(|c| c.is_file())
    }
}

impl fmt::Display for Schema {
    /// The resolved schema as IDL text, one file after another.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        print::write_schema(self, f)
    }
}

#[cfg(test)]
mod tests;
