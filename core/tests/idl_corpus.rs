//! Every `.thrift` file of the real-world corpus (`testdata/idl/`) is accounted for through its
//! MANIFEST: files an Apache compiler accepted must load and resolve; negative cases must fail
//! at the right line; a few dialect cases are accepted on purpose. A file missing from the
//! MANIFEST fails the test. Accepted single-file schemas must also print as IDL that parses
//! back to the same model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use dynthrift_core::idl::Loader;
use dynthrift_core::{ErrorKind, Schema};

/// Files that must fail: path, line of the error, part of the message.
const EXPECTED_ERRORS: &[(&str, u32, &str)] = &[
    // Both `1:` fields: the second one is the error.
    (
        "thriftpy2-parser-cases/e_duplicate_field_id.thrift",
        3,
        "duplicate field id 1 in struct 'Foo' (first used by 'abc' at line 2)",
    ),
    // `const i32 c = ` and then the end of the file: reported right after the `=`.
    (
        "thriftpy2-parser-cases/e_grammar_error_at_eof.thrift",
        3,
        "expected a constant value but found end of file",
    ),
    (
        "thriftpy2-parser-cases/e_value_ref_0.thrift",
        1,
        "unknown constant 'ref'",
    ),
    // Line 21 is `9876543210987654321`, over i64 (line 24, an enum value over i32, comes later).
    (
        "apache-thrift/test/BrokenConstants.thrift",
        21,
        "integer '9876543210987654321' is out of range for i64",
    ),
    // `senum` was removed in Apache 0.17 (THRIFT-5588).
    (
        "apache-thrift-v0.16.0/test/SmallTest.thrift",
        27,
        "'senum' is no longer supported, use 'string' instead",
    ),
    (
        "apache-thrift-v0.16.0/test/AnnotationTest.thrift",
        53,
        "'senum' is no longer supported, use 'string' instead",
    ),
];

/// Negative or dialect cases that load on purpose, and why.
const ACCEPTED_ON_PURPOSE: &[(&str, &str)] = &[
    // thriftpy2 rejects the struct constant because the nested `'user': {}` leaves the
    // required field `User.name` unset. Apache 0.17 and 0.25 accept it, and so do we:
    // requiredness is a property of encoded data, checked when a value is encoded or
    // decoded; a constant is a template that code may complete before it is sent.
    (
        "thriftpy2-parser-cases/e_structs_0.thrift",
        "required fields may be unset in constants",
    ),
    // `const i32 next = 12`: `next` is reserved in some target languages, not in the IDL.
    // Apache 0.25 accepts it; 0.17 rejected it only in its JSON generator.
    (
        "thriftpy2-parser-cases/e_use_thrift_reserved_keywords.thrift",
        "target-language words are names",
    ),
    // Annotations on a constant (`const string id = "id" (name="LANG_ID")`) are thriftpy2
    // syntax that Apache rejects; accepted and dropped (the model has no place for them).
    (
        "thriftpy2-parser-cases/annotations.thrift",
        "thriftpy2 dialect: annotations on constants",
    ),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/idl")
}

struct ManifestRow {
    apache_017: bool,
    apache_025: bool,
}

fn manifest() -> HashMap<String, ManifestRow> {
    let text = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (file, a17, a25) = (
        col("file"),
        col("apache_0.17_gen_json"),
        col("apache_0.25_gen_py"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            (
                cells[file].to_owned(),
                ManifestRow {
                    apache_017: cells[a17] == "ok",
                    apache_025: cells[a25] == "ok",
                },
            )
        })
        .collect()
}

fn thrift_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            thrift_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "thrift") {
            out.push(p);
        }
    }
}

fn relative(path: &Path) -> String {
    let rel = path.strip_prefix(corpus_dir()).expect("under corpus");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The negative cases the corpus README names: each needs a deliberate decision.
fn is_listed_negative(rel: &str) -> bool {
    let file = rel.rsplit('/').next().unwrap_or(rel);
    file.starts_with("e_")
        || file == "BrokenConstants.thrift"
        || rel.starts_with("apache-thrift-v0.16.0/")
}

#[test]
fn every_corpus_file_is_accounted_for() {
    let manifest = manifest();
    let mut files = Vec::new();
    thrift_files(&corpus_dir(), &mut files);
    assert!(
        files.len() >= 40,
        "corpus looks incomplete: {} files",
        files.len()
    );
    let mut problems = Vec::new();
    let (mut loaded, mut failed) = (0, 0);
    for path in &files {
        let rel = relative(path);
        let Some(row) = manifest.get(&rel) else {
            problems.push(format!("{rel}: not in MANIFEST.tsv"));
            continue;
        };
        let result = Loader::new().load_file(path);
        if let Some((_, line, message)) = EXPECTED_ERRORS.iter().find(|(f, ..)| *f == rel) {
            failed += 1;
            match result {
                Ok(_) => problems.push(format!("{rel}: loaded, expected an error at line {line}")),
                Err(e) => {
                    assert!(
                        matches!(e.kind(), ErrorKind::IdlSyntax | ErrorKind::IdlSemantic),
                        "{rel}: {e}"
                    );
                    let loc = e.location().expect("idl errors have a location");
                    if loc.line != *line
                        || !e.detail().contains(message)
                        || !loc.file.ends_with(&rel)
                    {
                        problems.push(format!(
                            "{rel}: expected line {line} and '{message}', got: {e}"
                        ));
                    }
                }
            }
            continue;
        }
        let on_purpose = ACCEPTED_ON_PURPOSE.iter().any(|(f, _)| *f == rel);
        if is_listed_negative(&rel) && !on_purpose {
            problems.push(format!("{rel}: a negative case with no decision"));
            continue;
        }
        if !(row.apache_017 || row.apache_025 || on_purpose) {
            problems.push(format!(
                "{rel}: rejected by Apache but neither expected to fail nor accepted on purpose"
            ));
            continue;
        }
        match result {
            Ok(schema) => {
                loaded += 1;
                check_schema(&rel, path, &schema, &mut problems);
            }
            Err(e) => problems.push(format!("{rel}: {e}")),
        }
    }
    for (f, ..) in EXPECTED_ERRORS {
        assert!(
            manifest.contains_key(*f),
            "{f} is listed here but not in the MANIFEST"
        );
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(failed, EXPECTED_ERRORS.len());
    assert!(loaded >= 35, "only {loaded} files loaded");
}

/// Checks a loaded schema: the root is files[0], the printed form is complete, and a
/// single-file schema prints as IDL that loads back to the same model.
fn check_schema(rel: &str, path: &Path, schema: &Schema, problems: &mut Vec<String>) {
    assert_eq!(schema.files[0].path, path, "{rel}: root file first");
    let printed = schema.to_string();
    for st in &schema.structs {
        assert!(
            printed.contains(&format!(" {} {{", st.name)),
            "{rel}: '{}' not printed",
            st.name
        );
    }
    if schema.files.len() > 1 {
        return;
    }
    let again = match Loader::new().load_str(&path.to_string_lossy(), &printed) {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!("{rel}: printed form does not load: {e}\n{printed}"));
            return;
        }
    };
    if normalized(schema) != normalized(&again) {
        problems.push(format!(
            "{rel}: printed form loads to a different model:\n{printed}"
        ));
    }
}

/// The model without what printing leaves out: docs and source positions.
fn normalized(s: &Schema) -> Schema {
    let mut s = s.clone();
    let clear_fields = |fields: &mut Vec<dynthrift_core::schema::FieldDef>| {
        for f in fields {
            f.doc = None;
            f.span = Default::default();
        }
    };
    for f in &mut s.files {
        f.doc = None;
    }
    for st in &mut s.structs {
        st.doc = None;
        st.span = Default::default();
        clear_fields(&mut st.fields);
    }
    for e in &mut s.enums {
        e.doc = None;
        e.span = Default::default();
        for v in &mut e.values {
            v.doc = None;
            v.span = Default::default();
        }
    }
    for t in &mut s.typedefs {
        t.doc = None;
        t.span = Default::default();
    }
    for c in &mut s.consts {
        c.doc = None;
        c.span = Default::default();
    }
    for sv in &mut s.services {
        sv.doc = None;
        sv.span = Default::default();
        for f in &mut sv.functions {
            f.doc = None;
            f.span = Default::default();
            clear_fields(&mut f.args);
            clear_fields(&mut f.throws);
        }
    }
    s
}
