//! Unit tests of the IDL front end: each construct of the language, each error class (with a
//! few messages pinned), includes on disk, limits on hostile input, and a no-panic property.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::schema::*;

fn load(text: &str) -> Schema {
    match Loader::new().load_str("a.thrift", text) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n{text}"),
    }
}

/// The full `Display` of the error for `text`.
fn error(text: &str) -> String {
    match Loader::new().load_str("a.thrift", text) {
        Ok(s) => panic!("loaded, expected an error:\n{text}\n{s}"),
        Err(e) => {
            assert_eq!(e.operation(), crate::Operation::Idl, "{e}");
            e.to_string()
        }
    }
}

fn kind(text: &str) -> ErrorKind {
    Loader::new().load_str("a.thrift", text).unwrap_err().kind()
}

fn st<'s>(s: &'s Schema, name: &str) -> &'s StructDef {
    s.struct_def(s.expect_struct(name).unwrap())
}

fn konst<'s>(s: &'s Schema, name: &str) -> &'s ConstDef {
    match s.lookup(name) {
        Some(Item::Const(i)) => &s.consts[i as usize],
        other => panic!("no constant {name}: {other:?}"),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(files: &[(&str, &str)]) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dynthrift-idl-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
        }
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- constructs ----

#[test]
fn headers() {
    let s = load(
        "namespace * thrift.test\nnamespace py.twisted tw (a = \"b\")\ncpp_include \"<map>\"\n\
         namespace java com.x.y;",
    );
    let f = &s.files[0];
    assert_eq!(f.path, Path::new("a.thrift"));
    assert_eq!(f.name, "a");
    assert_eq!(
        f.namespaces,
        vec![
            ("*".into(), "thrift.test".into()),
            ("py.twisted".into(), "tw".into()),
            ("java".into(), "com.x.y".into())
        ]
    );
    assert_eq!(f.cpp_includes, vec!["<map>".to_string()]);
}

#[test]
fn base_types_and_containers() {
    let s = load(
        "struct A { 1: bool a 2: byte b 3: i8 c 4: i16 d 5: i32 e 6: i64 f 7: double g \
         8: string h 9: binary i 10: uuid j 11: list<set<map<string, A>>> k }",
    );
    let tys: Vec<&Ty> = st(&s, "A").fields.iter().map(|f| &f.ty).collect();
    let a = s.struct_id("A").unwrap();
    assert_eq!(
        tys,
        [
            &Ty::Bool,
            &Ty::I8,
            &Ty::I8,
            &Ty::I16,
            &Ty::I32,
            &Ty::I64,
            &Ty::Double,
            &Ty::String,
            &Ty::Binary,
            &Ty::Uuid,
            &Ty::List(Box::new(Ty::Set(Box::new(Ty::Map(
                Box::new(Ty::String),
                Box::new(Ty::Struct(a))
            )))))
        ]
    );
}

#[test]
fn typedef_chains_resolve_to_their_target() {
    let s = load(
        "typedef C D\ntypedef i32 A\ntypedef A B\ntypedef list<B> C (x = \"y\")\n\
         typedef map<B, list<A>> (cpp.template = \"m\") M\nstruct S { 1: D d, 2: M m, 3: B b }",
    );
    let list_i32 = Ty::List(Box::new(Ty::I32));
    let fields = &st(&s, "S").fields;
    assert_eq!(fields[0].ty, list_i32);
    assert_eq!(
        fields[1].ty,
        Ty::Map(Box::new(Ty::I32), Box::new(list_i32.clone()))
    );
    assert_eq!(fields[2].ty, Ty::I32);
    // Annotations written on a typedef's target type go with fields declared with it.
    assert_eq!(fields[1].type_annotations.get("cpp.template"), Some("m"));
    let c = match s.lookup("C") {
        Some(Item::Typedef(i)) => &s.typedefs[i as usize],
        other => panic!("{other:?}"),
    };
    assert_eq!(c.ty, list_i32);
    assert_eq!(c.annotations.get("x"), Some("y"));
}

#[test]
fn enums_number_values_like_apache() {
    let s = load("enum E { A, B, C = 10, D, E = -5, F; G = 0x7fffffff }");
    let e = s.enum_def(s.enum_id("E").unwrap());
    let values: Vec<(&str, i32)> = e
        .values
        .iter()
        .map(|v| (v.name.as_str(), v.value))
        .collect();
    assert_eq!(
        values,
        [
            ("A", 0),
            ("B", 1),
            ("C", 10),
            ("D", 11),
            ("E", -5),
            ("F", -4),
            ("G", i32::MAX)
        ]
    );
    assert_eq!(
        error("enum E { A = 2147483647, B }"),
        "idl error at a.thrift:1:26: implicit value 2147483648 of 'B' is out of range for i32"
    );
    assert_eq!(
        error("enum E {\n  A = 68719476736\n}"),
        "idl error at a.thrift:2:7: value 68719476736 of 'A' is out of range for i32"
    );
}

#[test]
fn structs_unions_exceptions_and_requiredness() {
    let s = load(
        "struct S { 1: required i32 a, 2: optional i32 b, 3: i32 c = 7 }\n\
         union U { 1: i32 x; 2: string y }\nexception X { 1: string msg }",
    );
    let sd = st(&s, "S");
    assert_eq!(sd.kind, StructKind::Struct);
    let reqs: Vec<Requiredness> = sd.fields.iter().map(|f| f.req).collect();
    assert_eq!(
        reqs,
        [
            Requiredness::Required,
            Requiredness::Optional,
            Requiredness::Default
        ]
    );
    assert_eq!(sd.fields[2].default, Some(ConstValue::Int(7)));
    let u = st(&s, "U");
    assert_eq!(u.kind, StructKind::Union);
    // Apache makes every union member optional.
    assert!(u.fields.iter().all(|f| f.req == Requiredness::Optional));
    assert_eq!(st(&s, "X").kind, StructKind::Exception);
}

#[test]
fn implicit_field_ids_count_down_per_list() {
    let s = load(
        "struct A { string a, 1: string b, string c, 0: i32 d }\nstruct B { string a }\n\
         service S { void f(i32 a, i32 b) throws (X x) }\nexception X {}",
    );
    let ids = |fields: &[FieldDef]| -> Vec<(i16, bool)> {
        fields.iter().map(|f| (f.id, f.implicit_id)).collect()
    };
    // A written id of 0 (or less) is renumbered, as Apache does.
    assert_eq!(
        ids(&st(&s, "A").fields),
        [(-1, true), (1, false), (-2, true), (-3, true)]
    );
    assert_eq!(ids(&st(&s, "B").fields), [(-1, true)]);
    let f = &s.service_def(s.service_id("S").unwrap()).functions[0];
    assert_eq!(ids(&f.args), [(-1, true), (-2, true)]);
    assert_eq!(ids(&f.throws), [(-1, true)]);
    assert_eq!(
        error("struct A { 32768: i32 a }"),
        "idl error at a.thrift:1:12: field id 32768 is out of range (1 to 32767)"
    );
}

#[test]
fn separators_are_optional() {
    let s = load(
        "struct A { 1: i32 a, 2: i32 b; 3: i32 c 4: i32 d }; enum E { X, Y; Z }\n\
         service S { void f(1: i32 a 2: i32 b), void g(); oneway void h() } const i32 K = 1;\n\
         typedef i32 T, const list<i32> L = [1, 2; 3 4] const map<i32,i32> M = {1: 2, 3: 4; 5: 6 7: 8}",
    );
    assert_eq!(st(&s, "A").fields.len(), 4);
    assert_eq!(
        konst(&s, "L").value,
        ConstValue::List(vec![
            ConstValue::Int(1),
            ConstValue::Int(2),
            ConstValue::Int(3),
            ConstValue::Int(4)
        ])
    );
    let ConstValue::Map(m) = &konst(&s, "M").value else {
        panic!()
    };
    assert_eq!(m.len(), 4);
}

#[test]
fn services_extends_throws_oneway_void() {
    let dir = TempDir::new(&[
        (
            "base.thrift",
            "service Base { i32 ping() }\nexception Oops { 1: string why }",
        ),
        (
            "main.thrift",
            "include \"base.thrift\"\nservice Main extends base.Base {\n  void a(),\n  \
             oneway void b(1: i32 x),\n  list<i32> c(1: optional i32 x = 5) throws (1: base.Oops o, 2: Local l)\n}\n\
             exception Local {}\nservice Third extends Main {}",
        ),
    ]);
    let s = Loader::new().load_file(dir.path("main.thrift")).unwrap();
    let main = s.service_def(s.service_id("Main").unwrap());
    let base = s.service_id("base.Base").unwrap();
    assert_eq!(main.extends, Some(base));
    let names: Vec<&str> = main.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(main.functions[0].result, None);
    assert!(main.functions[1].oneway);
    let c = &main.functions[2];
    assert_eq!(c.result, Some(Ty::List(Box::new(Ty::I32))));
    // `optional` on an argument is ignored, as in Apache.
    assert_eq!(c.args[0].req, Requiredness::Default);
    assert_eq!(c.args[0].default, Some(ConstValue::Int(5)));
    assert_eq!(c.throws.len(), 2);
    let all: Vec<&str> = s
        .all_functions(s.service_id("Third").unwrap())
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(all, ["ping", "a", "b", "c"]);
}

#[test]
fn annotations_on_everything() {
    let s = load(
        "typedef list<i32> (cpp.template = \"std::list\") L (t = 'd')\n\
         struct A { 1: i32 (ta = \"1\") x (fa = \"2\", flag) } (sa = \"3\", sb = \"4\",)\n\
         enum E { V (va = \"5\") } (ea = \"6\")\n\
         service S { void f() (fn = \"7\") } (svc = \"8\")",
    );
    let a = st(&s, "A");
    assert_eq!(
        a.annotations.0,
        [("sa".into(), "3".into()), ("sb".into(), "4".into())]
    );
    assert_eq!(a.fields[0].type_annotations.get("ta"), Some("1"));
    assert_eq!(a.fields[0].annotations.get("fa"), Some("2"));
    // A key without a value reads "1", as in Apache.
    assert_eq!(a.fields[0].annotations.get("flag"), Some("1"));
    let e = s.enum_def(s.enum_id("E").unwrap());
    assert_eq!(e.annotations.get("ea"), Some("6"));
    assert_eq!(e.values[0].annotations.get("va"), Some("5"));
    let sv = s.service_def(s.service_id("S").unwrap());
    assert_eq!(sv.annotations.get("svc"), Some("8"));
    assert_eq!(sv.functions[0].annotations.get("fn"), Some("7"));
    assert_eq!(s.typedefs[0].annotations.get("t"), Some("d"));
}

#[test]
fn constants_of_every_kind() {
    let s = load(
        r#"
enum Color { RED = 1, GREEN = 2 }
struct P { 1: i32 x, 2: string name, 3: list<Color> colors, 4: P next }
typedef i64 Id
const i8 I8 = -128
const i16 HEX = 0x7fff
const i32 NEG_HEX = -0x1F
const Id BIG = 9223372036854775807
const double D1 = 1
const double D2 = -1.5e-3
const double D3 = 2E10
const bool T = true
const bool F = 0
const string S1 = "double \"quoted\"\n"
const string S2 = 'single \'quoted\' \\ \t'
const binary B = "bytes"
const uuid U = "00112233-4455-6677-8899-AABBCCDDEEFF"
const uuid UB = '{00112233-4455-6677-8899-aabbccddeeff}'
const list<i32> L = [1, 2, 3]
const set<string> SET = ["a", "b", "a"]
const map<string, list<i32>> M = {"a": [1], "b": []}
const map<Color, string> CM = {Color.RED: "red", 2: "green"}
const Color C = Color.GREEN
const Color C1 = 1
const i32 FROM_ENUM = Color.GREEN
const i64 REF = I8
const double REF_D = HEX
const P PT = {"x": 1, "name": 'p', "colors": [Color.RED], "next": {"x": 2}}
const list<i32> EMPTY_L = {}
const map<i32, i32> EMPTY_M = []
"#,
    );
    let v = |name: &str| konst(&s, name).value.clone();
    use ConstValue::*;
    assert_eq!(v("I8"), Int(-128));
    assert_eq!(v("HEX"), Int(0x7fff));
    assert_eq!(v("NEG_HEX"), Int(-31));
    assert_eq!(v("BIG"), Int(i64::MAX));
    assert_eq!(konst(&s, "BIG").ty, Ty::I64);
    assert_eq!(v("D1"), Double(1.0));
    assert_eq!(v("D2"), Double(-1.5e-3));
    assert_eq!(v("D3"), Double(2e10));
    assert_eq!(v("T"), Bool(true));
    assert_eq!(v("F"), Bool(false));
    assert_eq!(v("S1"), String("double \"quoted\"\n".into()));
    assert_eq!(v("S2"), String("single 'quoted' \\ \t".into()));
    assert_eq!(v("B"), Binary(b"bytes".to_vec()));
    let uuid = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ];
    assert_eq!(v("U"), Uuid(uuid));
    assert_eq!(v("UB"), Uuid(uuid));
    assert_eq!(v("L"), List(vec![Int(1), Int(2), Int(3)]));
    assert_eq!(
        v("SET"),
        Set(vec![
            String("a".into()),
            String("b".into()),
            String("a".into())
        ])
    );
    assert_eq!(
        v("M"),
        Map(vec![
            (String("a".into()), List(vec![Int(1)])),
            (String("b".into()), List(vec![]))
        ])
    );
    assert_eq!(
        v("CM"),
        Map(vec![
            (Int(1), String("red".into())),
            (Int(2), String("green".into()))
        ])
    );
    assert_eq!(v("C"), Int(2));
    assert_eq!(v("C1"), Int(1));
    assert_eq!(v("FROM_ENUM"), Int(2));
    assert_eq!(v("REF"), Int(-128));
    assert_eq!(konst(&s, "REF").ty, Ty::I64);
    assert_eq!(v("REF_D"), Double(32767.0));
    assert_eq!(
        v("PT"),
        Struct(vec![
            (1, Int(1)),
            (2, String("p".into())),
            (3, List(vec![Int(1)])),
            (4, Struct(vec![(1, Int(2))]))
        ])
    );
    assert_eq!(v("EMPTY_L"), List(vec![]));
    assert_eq!(v("EMPTY_M"), Map(vec![]));
}

#[test]
fn defaults_and_forward_references() {
    let s = load(
        "struct A { 1: B b = {\"x\": K}, 2: E e = E.Y, 3: list<double> d = [1, 2.5] }\n\
         const i32 K = L\nconst i32 L = 3\nstruct B { 1: i32 x }\nenum E { X, Y }",
    );
    let f = &st(&s, "A").fields;
    assert_eq!(
        f[0].default,
        Some(ConstValue::Struct(vec![(1, ConstValue::Int(3))]))
    );
    assert_eq!(f[1].default, Some(ConstValue::Int(1)));
    assert_eq!(
        f[2].default,
        Some(ConstValue::List(vec![
            ConstValue::Double(1.0),
            ConstValue::Double(2.5)
        ]))
    );
}

#[test]
fn reserved_words() {
    // Target-language words are names; IDL keywords may name fields, not definitions.
    let s = load(
        "const i32 next = 12\nstruct self { 1: string type, 2: i32 required, 3: list<i32> list }",
    );
    let names: Vec<&str> = st(&s, "self")
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["type", "required", "list"]);
    assert_eq!(
        error("struct list {}"),
        "idl error at a.thrift:1:8: expected a struct name but found reserved word 'list'"
    );
    assert_eq!(
        error("enum E { A, list }"),
        "idl error at a.thrift:1:13: expected an enum value name but found reserved word 'list'"
    );
    assert_eq!(
        error("struct a.b {}"),
        "idl error at a.thrift:1:8: a struct name cannot contain a dot: 'a.b'"
    );
}

#[test]
fn dialect_and_old_syntax_that_is_still_accepted() {
    let s = load(
        "const string id = \"id\" (name = \"LANG_ID\");\n\
         struct R xsd_all { 1: R & next xsd_optional xsd_nillable, 2: list cpp_type \"v\" <i32> l, \
         3: map cpp_type \"m\" <i32, i32> m }\nservice S { async void f() }",
    );
    assert_eq!(konst(&s, "id").value, ConstValue::String("id".into()));
    assert_eq!(st(&s, "R").fields.len(), 3);
    assert!(s.service_def(s.service_id("S").unwrap()).functions[0].oneway);
}

#[test]
fn docs_and_comments() {
    let s = load(
        "/** The file. */\nnamespace py x\n# hash\n// slashes\n/* block */\n\
         /**\n * A struct.\n */\nstruct A {\n  /** A field. */\n  1: i32 x\n}\n\
         /** E */ enum E { /** V */ V }\n/** K */ const i32 K = 1\n/** T */ typedef i32 T\n\
         /** S */ service S { /** f */ void f() }",
    );
    assert_eq!(s.files[0].doc.as_deref(), Some("The file.\n"));
    let a = st(&s, "A");
    assert_eq!(a.doc.as_deref(), Some("A struct.\n"));
    assert_eq!(a.fields[0].doc.as_deref(), Some("A field.\n"));
    let e = s.enum_def(s.enum_id("E").unwrap());
    assert_eq!(
        (e.doc.as_deref(), e.values[0].doc.as_deref()),
        (Some("E\n"), Some("V\n"))
    );
    assert_eq!(konst(&s, "K").doc.as_deref(), Some("K\n"));
    assert_eq!(s.typedefs[0].doc.as_deref(), Some("T\n"));
    let sv = s.service_def(s.service_id("S").unwrap());
    assert_eq!(
        (sv.doc.as_deref(), sv.functions[0].doc.as_deref()),
        (Some("S\n"), Some("f\n"))
    );
    // A doc comment right before a definition is the definition's, not the file's.
    let s = load("/** A */\nstruct A {}");
    assert_eq!(
        (s.files[0].doc.as_deref(), st(&s, "A").doc.as_deref()),
        (None, Some("A\n"))
    );
}

#[test]
fn spans_are_line_and_column_of_names() {
    let s = load("\n\nstruct  Point {\n   7: i32 x\n}");
    let p = st(&s, "Point");
    assert_eq!(p.span, Span { line: 3, column: 9 });
    assert_eq!(p.fields[0].span, Span { line: 4, column: 4 });
}

// ---- includes ----

#[test]
fn includes_resolve_relative_then_include_dirs() {
    let dir = TempDir::new(&[
        (
            "root/main.thrift",
            "include \"sub/mid.thrift\"\ninclude \"lib.thrift\"\n\
          struct M { 1: mid.T t = mid.DEFAULT, 2: mid.E e = mid.E.B, 3: lib.L l }",
        ),
        (
            "root/sub/mid.thrift",
            "include \"leaf.thrift\"\ntypedef leaf.Leaf T\n\
          const T DEFAULT = {\"v\": leaf.E.B}\nenum E { A, B }",
        ),
        (
            "root/sub/leaf.thrift",
            "struct Leaf { 1: E v }\nenum E { A, B, C }",
        ),
        ("inc/lib.thrift", "struct L {}"),
    ]);
    let s = Loader::new()
        .include_dir(dir.path("inc"))
        .load_file(dir.path("root/main.thrift"))
        .unwrap();
    let names: Vec<&str> = s.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["main", "mid", "leaf", "lib"]);
    assert_eq!(s.files[0].includes, [FileId(1), FileId(3)]);
    let m = st(&s, "M");
    let leaf = s.struct_id("leaf.Leaf").unwrap();
    assert_eq!(m.fields[0].ty, Ty::Struct(leaf));
    assert_eq!(
        m.fields[0].default,
        Some(ConstValue::Struct(vec![(1, ConstValue::Int(1))]))
    );
    assert_eq!(m.fields[1].default, Some(ConstValue::Int(1)));
    // Without the include directory `lib.thrift` is not found.
    let err = Loader::new()
        .load_file(dir.path("root/main.thrift"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IdlSemantic);
    assert!(
        err.to_string()
            .contains("main.thrift:2:9: cannot find include file 'lib.thrift' (searched '")
    );
    // Names of a file's includes' includes are not visible.
    let err = Loader::new()
        .include_dir(dir.path("root/sub"))
        .load_str(
            "x.thrift",
            "include \"mid.thrift\"\nstruct X { 1: leaf.Leaf l }",
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "idl error at x.thrift:2:15: unknown type 'leaf.Leaf' ('leaf' is not an included file)"
    );
}

#[test]
fn a_file_included_twice_is_loaded_once() {
    let dir = TempDir::new(&[
        (
            "a.thrift",
            "include \"b.thrift\"\ninclude \"c.thrift\"\ninclude \"./b.thrift\"\nstruct A { 1: b.B b, 2: c.C c }",
        ),
        ("b.thrift", "include \"c.thrift\"\nstruct B { 1: c.C c }"),
        ("c.thrift", "struct C {}"),
    ]);
    let s = Loader::new().load_file(dir.path("a.thrift")).unwrap();
    assert_eq!(s.files.len(), 3);
    assert_eq!(s.structs.len(), 3);
}

#[test]
fn include_cycles_are_errors() {
    let dir = TempDir::new(&[
        ("a.thrift", "include \"b.thrift\""),
        ("b.thrift", "\ninclude \"c.thrift\""),
        ("c.thrift", "\n\ninclude \"a.thrift\""),
        ("self.thrift", "include \"self.thrift\""),
    ]);
    let err = Loader::new().load_file(dir.path("a.thrift")).unwrap_err();
    let loc = err.location().unwrap();
    assert_eq!(
        (loc.file.file_name().unwrap().to_str(), loc.line, loc.column),
        (Some("c.thrift"), 3, 9)
    );
    assert_eq!(
        err.detail(),
        "include cycle: a.thrift -> b.thrift -> c.thrift -> a.thrift"
    );
    let err = Loader::new()
        .load_file(dir.path("self.thrift"))
        .unwrap_err();
    assert_eq!(err.detail(), "include cycle: self.thrift -> self.thrift");
}

#[test]
fn include_name_clash_and_missing_files() {
    let dir = TempDir::new(&[
        ("a.thrift", "include \"x/t.thrift\"\ninclude \"y/t.thrift\""),
        ("x/t.thrift", ""),
        ("y/t.thrift", ""),
    ]);
    let err = Loader::new().load_file(dir.path("a.thrift")).unwrap_err();
    assert_eq!(err.detail(), "another included file is also named 't'");
    let err = Loader::new()
        .load_file(dir.path("missing.thrift"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(
        error("include \"nope.thrift\""),
        "idl error at a.thrift:1:9: cannot find include file 'nope.thrift' (no include directories)"
    );
}

#[test]
fn non_utf8_file_is_an_error_with_its_place() {
    let dir = TempDir::new(&[]);
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.path("bad.thrift");
    std::fs::write(&path, b"struct A {}\n// caf\xe9\n").unwrap();
    let err = Loader::new().load_file(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IdlSyntax);
    let loc = err.location().unwrap();
    assert_eq!((loc.line, loc.column), (2, 7));
    assert_eq!(err.detail(), "file is not valid utf-8");
}

// ---- errors: syntax ----

#[test]
fn syntax_errors_name_place_and_text() {
    assert_eq!(
        error("struct A {\n  1: i32 x\nstruct B {}"),
        "idl error at a.thrift:3:1: expected '}' but found 'struct'"
    );
    assert_eq!(
        error("const i32 X 5"),
        "idl error at a.thrift:1:13: expected '=' but found '5'"
    );
    assert_eq!(
        error("const i32 X ="),
        "idl error at a.thrift:1:14: expected a constant value but found end of file"
    );
    assert_eq!(
        error("struct A { 1: void x }"),
        "idl error at a.thrift:1:15: expected a type but found 'void'"
    );
    assert_eq!(
        error("struct A { 1: i32 }"),
        "idl error at a.thrift:1:19: expected a field name but found '}'"
    );
    assert_eq!(
        error("service S { void f() (a = 1) }"),
        "idl error at a.thrift:1:27: expected an annotation value in quotes but found '1'"
    );
    assert_eq!(
        error("foo bar"),
        "idl error at a.thrift:1:1: expected a definition but found 'foo'"
    );
    assert_eq!(
        error("struct A { 1: list<i32 x }"),
        "idl error at a.thrift:1:24: expected '>' but found 'x'"
    );
    assert_eq!(
        error("const string S = \"a very long string that goes on and on and on\" x"),
        "idl error at a.thrift:1:66: expected a definition but found 'x'"
    );
    assert_eq!(
        error(
            "const i32 X = 1 struct A { 1: i32 x = \"this literal is rather long, more than forty chars\" ]"
        ),
        "idl error at a.thrift:1:92: expected '}' but found ']'"
    );
    assert_eq!(kind("struct A {"), ErrorKind::IdlSyntax);
}

#[test]
fn removed_syntax_says_what_replaced_it() {
    assert_eq!(
        error("\nsenum S { \"a\" }"),
        "idl error at a.thrift:2:1: 'senum' is no longer supported, use 'string' instead"
    );
    assert_eq!(
        error("struct A { 1: slist s }"),
        "idl error at a.thrift:1:15: 'slist' is no longer supported, use 'string' instead"
    );
    assert_eq!(
        error("java_package com.x"),
        "idl error at a.thrift:1:1: 'java_package' is no longer supported, use 'namespace java' instead"
    );
}

// ---- errors: resolution ----

#[test]
fn unknown_names() {
    assert_eq!(
        error("struct A {\n  1: i32 x\n 2: optional Foo y\n}"),
        "idl error at a.thrift:3:14: unknown type 'Foo'"
    );
    assert_eq!(kind("struct A { 1: Foo y }"), ErrorKind::IdlSemantic);
    assert_eq!(
        error("const i32 X = Y"),
        "idl error at a.thrift:1:15: unknown constant 'Y'"
    );
    assert_eq!(
        error("const i32 K = 1\nstruct A { 1: K k }"),
        "idl error at a.thrift:2:15: 'K' is a constant, not a type"
    );
    assert_eq!(
        error("service S {}\nstruct A { 1: S s }"),
        "idl error at a.thrift:2:15: 'S' is a service, not a type"
    );
    assert_eq!(
        error("service S extends T {}"),
        "idl error at a.thrift:1:19: unknown service 'T'"
    );
    assert_eq!(
        error("struct T {}\nservice S extends T {}"),
        "idl error at a.thrift:2:19: 'T' is not a service"
    );
}

#[test]
fn duplicates() {
    assert_eq!(
        error("struct A {\n  1: i32 a\n\n  3: i32 x\n  3: i32 y\n}"),
        "idl error at a.thrift:5:3: duplicate field id 3 in struct 'A' (first used by 'x' at line 4)"
    );
    assert_eq!(
        error("struct A {\n  1: i32 x\n  2: string x\n}"),
        "idl error at a.thrift:3:13: duplicate field name 'x' in struct 'A' (first declared at line 2)"
    );
    assert_eq!(
        error("service S { void f(1: i32 a, 1: i32 b) }"),
        "idl error at a.thrift:1:30: duplicate field id 1 in arguments of 'S.f' (first used by 'a' at line 1)"
    );
    assert_eq!(
        error("struct A {}\nconst i32 A = 1"),
        "idl error at a.thrift:2:11: duplicate definition 'A' (first defined at line 1)"
    );
    assert_eq!(
        error("enum E { A, B, A }"),
        "idl error at a.thrift:1:16: duplicate value 'A' in enum 'E' (first declared at line 1)"
    );
    assert_eq!(
        error("service S { void f()\n void f() }"),
        "idl error at a.thrift:2:7: duplicate function 'f' in service 'S' (first declared at line 1)"
    );
}

#[test]
fn cycles() {
    assert_eq!(
        error("typedef B A\ntypedef A B"),
        "idl error at a.thrift:1:11: typedef 'A' refers to itself"
    );
    assert_eq!(
        error("typedef A A"),
        "idl error at a.thrift:1:11: typedef 'A' refers to itself"
    );
    assert_eq!(
        error("const i32 A = B\nconst i32 B = A"),
        "idl error at a.thrift:1:11: constant 'A' refers to itself"
    );
    assert_eq!(
        error("service A extends B {}\nservice B extends A {}"),
        "idl error at a.thrift:1:19: service inheritance cycle: 'A' -> 'B' -> 'A'"
    );
    // Recursive structs are fine.
    load("struct L { 1: L next, 2: list<L> all }");
}

#[test]
fn const_values_of_the_wrong_type() {
    let e = |t: &str| error(&format!("enum E {{ A = 1 }}\nstruct S {{ 1: i32 x }}\n{t}"));
    assert_eq!(
        e("const i32 X = \"a\""),
        "idl error at a.thrift:3:15: expected i32 but found string \"a\""
    );
    assert_eq!(
        e("const i8 X = 128"),
        "idl error at a.thrift:3:14: value 128 is out of range for i8"
    );
    assert_eq!(
        e("const i16 X = -32769"),
        "idl error at a.thrift:3:15: value -32769 is out of range for i16"
    );
    assert_eq!(
        e("const i32 X = 2147483648"),
        "idl error at a.thrift:3:15: value 2147483648 is out of range for i32"
    );
    assert_eq!(
        e("const i32 X = 1.5"),
        "idl error at a.thrift:3:15: expected i32 but found double 1.5"
    );
    assert_eq!(
        e("const string X = 1"),
        "idl error at a.thrift:3:18: expected string but found integer 1"
    );
    assert_eq!(
        e("const bool X = 2"),
        "idl error at a.thrift:3:16: value 2 is out of range for bool (use true, false, 0 or 1)"
    );
    assert_eq!(
        e("const E X = E.B"),
        "idl error at a.thrift:3:13: enum 'E' has no value 'B'"
    );
    assert_eq!(
        e("const E X = 2"),
        "idl error at a.thrift:3:13: 2 is not a value of enum 'E'"
    );
    assert_eq!(
        e("const E X = A"),
        "idl error at a.thrift:3:13: unqualified enum value 'A', write 'E.A'"
    );
    assert_eq!(
        e("const S X = {\"y\": 1}"),
        "idl error at a.thrift:3:14: 'S' has no field 'y'"
    );
    assert_eq!(
        e("const S X = {1: 1}"),
        "idl error at a.thrift:3:14: expected a field name in quotes but found integer 1"
    );
    assert_eq!(
        e("const S X = [1]"),
        "idl error at a.thrift:3:13: expected S but found a list"
    );
    assert_eq!(
        e("const list<i32> X = {1: 2}"),
        "idl error at a.thrift:3:21: expected list<i32> but found a map"
    );
    assert_eq!(
        e("const map<i32, string> X = {1: 2}"),
        "idl error at a.thrift:3:32: expected string but found integer 2"
    );
    assert_eq!(
        e("const uuid X = \"0011\""),
        "idl error at a.thrift:3:16: invalid uuid \"0011\""
    );
    assert_eq!(
        e("const string K = \"k\"\nconst i32 X = K"),
        "idl error at a.thrift:4:15: constant 'K' has type string, expected i32"
    );
    assert_eq!(
        e("const i64 K = 300\nconst i8 X = K"),
        "idl error at a.thrift:4:14: value 300 is out of range for i8"
    );
    assert_eq!(
        e("enum F { A = 1 }\nconst E X = F.A"),
        "idl error at a.thrift:4:13: expected a value of enum 'E' but found 'F.A'"
    );
    assert_eq!(
        e("struct T { 1: i32 x = \"no\" }"),
        "idl error at a.thrift:3:23: expected i32 but found string \"no\""
    );
}

#[test]
fn service_rules() {
    assert_eq!(
        error("struct X {}\nservice S { void f() throws (1: X x) }"),
        "idl error at a.thrift:2:33: 'X' in the throws of 'S.f' is not an exception"
    );
    assert_eq!(
        error("service S { oneway i32 f() }"),
        "idl error at a.thrift:1:24: oneway function 'S.f' must return void"
    );
    assert_eq!(
        error("exception X {}\nservice S { oneway void f() throws (1: X x) }"),
        "idl error at a.thrift:2:25: oneway function 'S.f' cannot throw exceptions"
    );
}

// ---- hostile input ----

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep_type = format!(
        "struct A {{ 1: {}i32{} x }}",
        "list<".repeat(300),
        ">".repeat(300)
    );
    assert!(error(&deep_type).contains("nesting deeper than 256 levels"));
    let ok_type = format!(
        "struct A {{ 1: {}i32{} x }}",
        "list<".repeat(200),
        ">".repeat(200)
    );
    load(&ok_type);
    let deep_value = format!(
        "const list<i32> X = {}{}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(error(&deep_value).contains("nesting deeper than 256 levels"));
    // A long typedef chain, declared last-first so that resolution recurses.
    let mut chain = String::new();
    for i in (1..1000).rev() {
        chain.push_str(&format!("typedef T{} T{i}\n", i - 1));
    }
    chain.push_str("typedef i32 T0\n");
    assert!(error(&chain).contains("type nested deeper than 256 levels"));
    // Typedefs that each add nesting to the previous one.
    let mut grow = String::from("typedef i32 T0\n");
    for i in 1..100 {
        grow.push_str(&format!("typedef list<list<list<T{}>>> T{i}\n", i - 1));
    }
    assert!(error(&grow).contains("type nested deeper than 256 levels"));
    // A long chain of constant references.
    let mut consts = String::new();
    for i in (1..1000).rev() {
        consts.push_str(&format!("const i32 C{i} = C{}\n", i - 1));
    }
    consts.push_str("const i32 C0 = 1\n");
    assert!(error(&consts).contains("constant nested deeper than 256 levels"));
    // Struct constants that nest through references.
    let mut structs = String::from("struct S { 1: S s }\nconst S S0 = {}\n");
    for i in 1..400 {
        structs.push_str(&format!("const S S{i} = {{\"s\": S{}}}\n", i - 1));
    }
    assert!(error(&structs).contains("constant nested deeper than 256 levels"));
}

#[test]
fn exponential_constants_are_bounded() {
    let mut text = String::from("const list<i32> L0 = [1, 2]\n");
    for i in 1..64 {
        let t = format!(
            "list<{}>",
            "list<".repeat(i - 1) + "i32" + &">".repeat(i - 1)
        );
        text.push_str(&format!(
            "const list<{t}> L{i} = [L{p}, L{p}, L{p}, L{p}]\n",
            p = i - 1
        ));
    }
    let e = error(&text);
    assert!(
        e.contains("constants too large: more than 1000000 values in all"),
        "{e}"
    );
}

#[test]
fn printed_schema_is_pinned() {
    let s = load(
        "namespace py demo\nenum E { A = 1, B }\ntypedef list<i32> L\nconst E K = E.B\n\
         const map<string, double> M = {\"pi\": 3.14, 'one': 1}\n\
         struct S { 1: required string name, 2: optional L xs = [1], 3: E e = 2 (doc = \"e\"), i64 n }\n\
         union U { 1: S s 2: binary b = \"x\\ty\" }\nexception X { 1: string why } (x = \"y\")\n\
         service Svc { oneway void ping(1: i32 n), S get(1: string name) throws (1: X x) }\n\
         service Sub extends Svc {}",
    );
    let expected = r#"// file 'a': a.thrift
namespace py demo
typedef list<i32> L
enum E {
  A = 1
  B = 2
}
const E K = E.B
const map<string, double> M = {"pi": 3.14, "one": 1.0}
struct S {
  1: required string name
  2: optional list<i32> xs = [1]
  3: E e = E.B (doc = "e")
  -1: i64 n
}
union U {
  1: optional S s
  2: optional binary b = "x\ty"
}
exception X {
  1: string why
} (x = "y")
service Svc {
  oneway void ping(1: i32 n)
  S get(1: string name) throws (1: X x)
}
service Sub extends Svc {
}
"#;
    assert_eq!(s.to_string(), expected);
}

mod no_panic {
    use proptest::prelude::*;

    /// Tokens and fragments of the language, so that random input reaches the resolver.
    const PIECES: &[&str] = &[
        "struct ",
        "union ",
        "exception ",
        "enum ",
        "service ",
        "typedef ",
        "const ",
        "include ",
        "namespace ",
        "extends ",
        "throws ",
        "oneway ",
        "void ",
        "required ",
        "optional ",
        "i32 ",
        "string ",
        "binary ",
        "uuid ",
        "list<",
        "set<",
        "map<",
        ">",
        ",",
        ";",
        ":",
        "=",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "&",
        "*",
        "1",
        "-1",
        "0x7f",
        "1.5e3",
        "\"s\"",
        "'00112233-4455-6677-8899-aabbccddeeff'",
        "A ",
        "B ",
        "E.X ",
        "x ",
        "a.b ",
        "true ",
        "/** d */",
        "// c\n",
        "\n",
        "senum ",
        "99999999999999999999",
    ];

    // 256 cases each by default; `PROPTEST_CASES=100000` for a longer run.
    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = super::parse_str(&text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = super::parse_str(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn token_soup_never_panics(idx in proptest::collection::vec(0..PIECES.len(), 0..80)) {
            let text: String = idx.iter().map(|&i| PIECES[i]).collect();
            let _ = super::parse_str(&text);
        }

        #[test]
        fn generated_programs_never_panic(choices in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = Gen { choices: &choices, pos: 0 }.program();
            if let Ok(schema) = super::parse_str(&text) {
                let _ = schema.to_string();
            }
        }
    }

    /// Builds mostly well-formed programs from a list of choices, so that the resolver's
    /// paths (references, typedef chains, constants of every shape, cycles) are reached.
    struct Gen<'a> {
        choices: &'a [u8],
        pos: usize,
    }

    impl Gen<'_> {
        fn pick(&mut self, n: u8) -> u8 {
            let c = self.choices.get(self.pos).copied().unwrap_or(0);
            self.pos += 1;
            c % n
        }

        fn program(&mut self) -> String {
            // Every kind has a definition numbered 0; generated ones are numbered from 1, and
            // references pick 0 to 2 (so some are forward, unknown or of the wrong kind).
            let mut out = String::from(
                "typedef i32 T0\nstruct S0 { 1: i32 f0 }\nenum E0 { A, B }\nexception X0 {}\n\
                 const i32 C0 = 1\nservice V0 {}\n",
            );
            let mut count = [0u8; 6];
            while self.pos < self.choices.len() {
                let kind = self.pick(6);
                let c = &mut count[kind as usize];
                *c = c.wrapping_add(1);
                let n = *c;
                let def = match kind {
                    0 => format!("typedef {} T{n}\n", self.ty(0)),
                    1 => format!("const {} C{n} = {}\n", self.ty(0), self.value(0)),
                    2 => format!("struct S{n} {{ {} }}\n", self.fields()),
                    3 => format!(
                        "enum E{n} {{ A, B = {} }}\n",
                        ["1", "5", "-1", "128"][self.pick(4) as usize]
                    ),
                    4 => format!("exception X{n} {{ {} }}\n", self.fields()),
                    _ => format!(
                        "service V{n} extends V{} {{ {} f({}) throws (1: X{} e) }}\n",
                        self.pick(3),
                        self.ty(0),
                        self.fields(),
                        self.pick(3)
                    ),
                };
                out.push_str(&def);
            }
            out
        }

        fn int(&mut self) -> &'static str {
            [
                "0",
                "1",
                "-1",
                "127",
                "128",
                "32768",
                "2147483648",
                "0x7fffffffffffffff",
            ][self.pick(8) as usize]
        }

        fn ty(&mut self, depth: u8) -> String {
            let n = self.pick(3);
            match self.pick(if depth > 3 { 6 } else { 9 }) {
                0 => "i32".into(),
                1 => "string".into(),
                2 => "uuid".into(),
                3 => format!("T{n}"),
                4 => format!("S{n}"),
                5 => format!("E{n}"),
                6 => format!("list<{}>", self.ty(depth + 1)),
                7 => format!("set<{}>", self.ty(depth + 1)),
                _ => format!("map<{}, {}>", self.ty(depth + 1), self.ty(depth + 1)),
            }
        }

        fn value(&mut self, depth: u8) -> String {
            let n = self.pick(3);
            match self.pick(if depth > 3 { 6 } else { 9 }) {
                0 => self.int().into(),
                1 => "\"00112233-4455-6677-8899-aabbccddeeff\"".into(),
                2 => format!("C{n}"),
                3 => format!("E{n}.A"),
                4 => "1.5".into(),
                5 => "true".into(),
                6 => format!("[{}, {}]", self.value(depth + 1), self.value(depth + 1)),
                7 => format!("{{{}: {}}}", self.value(depth + 1), self.value(depth + 1)),
                _ => format!("{{\"f{n}\": {}}}", self.value(depth + 1)),
            }
        }

        fn fields(&mut self) -> String {
            let count = self.pick(4);
            let mut out = String::new();
            for i in 0..count {
                let req = ["", "required ", "optional "][self.pick(3) as usize];
                let id = match self.pick(8) {
                    0 => String::new(),
                    1 => "1: ".to_owned(),
                    _ => format!("{}: ", i + 1),
                };
                let default = if self.pick(3) == 0 {
                    format!(" = {}", self.value(0))
                } else {
                    String::new()
                };
                out.push_str(&format!("{id}{req}{} f{i}{default}, ", self.ty(0)));
            }
            out
        }
    }
}
