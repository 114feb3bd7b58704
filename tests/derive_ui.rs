//! Compile errors of `#[derive(Thrift)]`: each `tests/ui/*.rs` fails to compile with the
//! messages in its `.stderr` (regenerate with `TRYBUILD=overwrite`, then read them), and
//! `tests/ui/pass_*.rs` compile without warnings.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    let mut paths: Vec<_> = std::fs::read_dir("tests/ui")
        .expect("tests/ui")
        .map(|e| e.expect("tests/ui entry").path())
        .collect();
    paths.sort();
    for path in paths {
        let is_rs = path.extension().is_some_and(|e| e == "rs");
        let is_pass = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("pass_"));
        if is_rs && !is_pass {
            t.compile_fail(path);
        }
    }
}
