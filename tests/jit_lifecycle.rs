//! JIT lifecycle: codecs are cheap to make and compile on first use or on `pretouch`; the
//! reason is reported when the interpreter runs; many threads using a type for the first time
//! at once all get correct results.
#![cfg(feature = "jit")]

use std::sync::{Arc, Barrier};

use dynthrift::{Backend, BackendInfo, Codec, DynCodec, DynSchema, Options, Thrift};

fn jit_on() -> bool {
    !std::env::var("DYNTHRIFT_JIT").is_ok_and(|v| v == "off")
}

#[derive(Thrift, Debug, Clone, PartialEq, Default)]
struct Inner {
    #[thrift(id = 1)]
    name: String,
    #[thrift(id = 2)]
    n: i64,
}

#[derive(Thrift, Debug, Clone, PartialEq, Default)]
struct Outer {
    #[thrift(id = 1)]
    a: i32,
    #[thrift(id = 2)]
    inner: Inner,
    #[thrift(id = 3)]
    list: Vec<Inner>,
    #[thrift(id = 4)]
    opt: Option<String>,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
enum U {
    #[thrift(id = 1)]
    A(i32),
    #[thrift(id = 2)]
    B(String),
}

fn outer(k: i32) -> Outer {
    Outer {
        a: k,
        inner: Inner {
            name: format!("inner {k}"),
            n: k as i64 * 1000,
        },
        list: (0..k)
            .map(|i| Inner {
                name: "x".repeat(i as usize),
                n: i as i64,
            })
            .collect(),
        opt: (k % 2 == 0).then(|| "even".to_string()),
    }
}

#[test]
fn pretouch_reports_the_backend() {
    let c = Codec::<Outer>::new().unwrap();
    if jit_on() {
        assert_eq!(c.pretouch(), BackendInfo::Jit);
        assert!(c.decodes_compiled());
    } else {
        assert_eq!(
            c.pretouch(),
            BackendInfo::Interpreter("DYNTHRIFT_JIT=off".into())
        );
    }
    // Pretouching again, or through another codec of the type, changes nothing.
    assert_eq!(c.pretouch(), c.backend());
    assert_eq!(Codec::<Outer>::new().unwrap().pretouch(), c.backend());
    let v = outer(3);
    assert_eq!(c.decode(&c.encode(&v).unwrap()).unwrap(), v);

    let interp =
        Codec::<Outer>::with_options(Options::binary().backend(Backend::Interpreter)).unwrap();
    assert_eq!(
        interp.pretouch(),
        BackendInfo::Interpreter("the interpreter was chosen in the options".into())
    );
    assert!(!interp.decodes_compiled());
    let u = Codec::<U>::new().unwrap();
    if jit_on() {
        assert_eq!(u.pretouch(), BackendInfo::Jit);
    }
    assert_eq!(
        u.decode(&u.encode(&U::B("b".into())).unwrap()).unwrap(),
        U::B("b".into())
    );
}

#[test]
fn dyn_codec_pretouch_reports_the_backend() {
    let types = DynSchema::new(
        dynthrift::idl::parse_str(
            "struct S { 1: string s, 2: list<i32> l } union V { 1: i32 a, 2: string b }",
        )
        .unwrap(),
    )
    .unwrap();
    let s = DynCodec::new(&types, "S", Options::binary()).unwrap();
    if jit_on() {
        assert_eq!(s.pretouch(), BackendInfo::Jit);
    } else {
        assert!(matches!(s.pretouch(), BackendInfo::Interpreter(_)));
    }
    let v = DynCodec::new(&types, "V", Options::binary()).unwrap();
    if jit_on() {
        assert_eq!(v.pretouch(), BackendInfo::Jit);
    }
    let mut value = s.new_value().unwrap();
    value.set("s", "hello").unwrap();
    let bytes = s.encode(&value).unwrap();
    assert_eq!(
        s.decode(&bytes)
            .unwrap()
            .encode(dynthrift::Protocol::Binary)
            .unwrap(),
        bytes
    );
}

/// Types used by this test only, so that the threads really are the first users.
#[derive(Thrift, Debug, Clone, PartialEq, Default)]
struct Fresh {
    #[thrift(id = 1)]
    x: i64,
    #[thrift(id = 2)]
    s: String,
    #[thrift(id = 3)]
    nested: Vec<FreshInner>,
}

#[derive(Thrift, Debug, Clone, PartialEq, Default)]
struct FreshInner {
    #[thrift(id = 7)]
    b: bool,
    #[thrift(id = 8)]
    d: f64,
}

#[test]
fn many_threads_first_use_at_once() {
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let v = Fresh {
                    x: t as i64,
                    s: format!("thread {t}"),
                    nested: (0..t)
                        .map(|i| FreshInner {
                            b: i % 2 == 0,
                            d: i as f64 / 2.0,
                        })
                        .collect(),
                };
                barrier.wait();
                let c = Codec::<Fresh>::new().unwrap();
                let bytes = c.encode(&v).unwrap();
                assert_eq!(c.decode(&bytes).unwrap(), v);
                let interp =
                    Codec::<Fresh>::with_options(Options::binary().backend(Backend::Interpreter))
                        .unwrap();
                assert_eq!(interp.encode(&v).unwrap(), bytes);
                c.backend()
            })
        })
        .collect();
    for h in handles {
        let backend = h.join().unwrap();
        if jit_on() {
            assert_eq!(backend, BackendInfo::Jit);
        }
    }
}
