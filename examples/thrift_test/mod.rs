//! Apache Thrift's cross-language `ThriftTest` service with IDL-only values: the server's
//! handler (every method, with the behaviour Apache's test suite expects) and a client that
//! calls every method and checks every answer. Shared by `examples/thrift_test_server.rs`,
//! `examples/thrift_test_client.rs` and `tests/thrift_test_interop.rs`.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dynthrift::rpc::{DynClient, HandlerError, IdlService, Router, RpcError, Transport};
use dynthrift::{ApplicationErrorKind, ApplicationException, DynStruct, Protocol, Value};

/// The IDL: Apache's v0.16 copy (Debian's compiler 0.17 predates `uuid`, and the Python side
/// is generated from the same file).
pub fn idl_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/idl/apache-thrift/test/v0.16/ThriftTest.thrift")
}

pub fn load() -> Arc<IdlService> {
    IdlService::load(idl_path(), "ThriftTest").expect("ThriftTest.thrift loads")
}

pub fn parse_protocol(s: &str) -> Option<Protocol> {
    match s {
        "binary" => Some(Protocol::Binary),
        "compact" => Some(Protocol::Compact),
        _ => None,
    }
}

pub fn parse_transport(s: &str) -> Option<Transport> {
    match s {
        "buffered" => Some(Transport::Buffered),
        "framed" => Some(Transport::Framed),
        "ttheader" => Some(Transport::TTHeader),
        _ => None,
    }
}

// Numberz
const ONE: i32 = 1;
const TWO: i32 = 2;
const THREE: i32 = 3;
const FIVE: i32 = 5;
const SIX: i32 = 6;
const EIGHT: i32 = 8;

fn xtruct(svc: &IdlService, s: &str, b: i8, i: i32, l: i64) -> DynStruct {
    let mut x = svc.new_struct("Xtruct").unwrap();
    x.set("string_thing", s).unwrap();
    x.set("byte_thing", b).unwrap();
    x.set("i32_thing", i).unwrap();
    x.set("i64_thing", l).unwrap();
    x
}

fn int_map(pairs: &[(i32, i32)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|&(k, v)| (Value::I32(k), Value::I32(v)))
            .collect(),
    )
}

fn map_map() -> Value {
    Value::Map(vec![
        (
            Value::I32(-4),
            int_map(&[(-4, -4), (-3, -3), (-2, -2), (-1, -1)]),
        ),
        (Value::I32(4), int_map(&[(1, 1), (2, 2), (3, 3), (4, 4)])),
    ])
}

fn insanity_reply(svc: &IdlService, argument: Value) -> Value {
    let empty = Value::Struct(svc.new_struct("Insanity").unwrap());
    Value::Map(vec![
        (
            Value::I64(1),
            Value::Map(vec![
                (Value::I32(TWO), argument.clone()),
                (Value::I32(THREE), argument),
            ]),
        ),
        (Value::I64(2), Value::Map(vec![(Value::I32(SIX), empty)])),
    ])
}

fn arg(args: &DynStruct, name: &str) -> Result<Value, HandlerError> {
    args.get(name).ok().flatten().ok_or_else(|| {
        HandlerError::Application(ApplicationException::new(
            ApplicationErrorKind::ProtocolError,
            format!("argument {name} missing"),
        ))
    })
}

fn text(args: &DynStruct, name: &str) -> Result<String, HandlerError> {
    match arg(args, name)? {
        Value::String(s) => Ok(s),
        v => Err(HandlerError::Application(ApplicationException::new(
            ApplicationErrorKind::ProtocolError,
            format!("argument {name} is {v:?}"),
        ))),
    }
}

/// The server side. `oneways` counts completed `testOneway` calls.
pub fn router(svc: &Arc<IdlService>, oneways: Arc<AtomicUsize>) -> Router {
    let s = svc.clone();
    Router::new().dynamic_service(svc, move |method, args| {
        let svc = s.clone();
        let oneways = oneways.clone();
        async move {
            match &*method {
                "testVoid" => Ok(None),
                "testString" | "testBool" | "testByte" | "testI32" | "testI64" | "testDouble"
                | "testBinary" | "testStruct" | "testNest" | "testMap" | "testStringMap"
                | "testSet" | "testList" | "testEnum" | "testTypedef" => {
                    arg(&args, "thing").map(Some)
                }
                "testMapMap" => {
                    arg(&args, "hello")?;
                    Ok(Some(map_map()))
                }
                "testInsanity" => Ok(Some(insanity_reply(&svc, arg(&args, "argument")?))),
                "testMulti" => {
                    let Value::I8(b) = arg(&args, "arg0")? else {
                        unreachable!()
                    };
                    let Value::I32(i) = arg(&args, "arg1")? else {
                        unreachable!()
                    };
                    let Value::I64(l) = arg(&args, "arg2")? else {
                        unreachable!()
                    };
                    Ok(Some(Value::Struct(xtruct(&svc, "Hello2", b, i, l))))
                }
                "testException" => {
                    let a = text(&args, "arg")?;
                    match a.as_str() {
                        "Xception" => {
                            let mut e = svc.new_struct("Xception").unwrap();
                            e.set("errorCode", 1001).unwrap();
                            e.set("message", a.as_str()).unwrap();
                            Err(HandlerError::Exception(e))
                        }
                        "TException" => Err(HandlerError::Application(ApplicationException::new(
                            ApplicationErrorKind::InternalError,
                            "TException",
                        ))),
                        _ => Ok(None),
                    }
                }
                "testMultiException" => {
                    let a0 = text(&args, "arg0")?;
                    let a1 = text(&args, "arg1")?;
                    match a0.as_str() {
                        "Xception" => {
                            let mut e = svc.new_struct("Xception").unwrap();
                            e.set("errorCode", 1001).unwrap();
                            e.set("message", "This is an Xception").unwrap();
                            Err(HandlerError::Exception(e))
                        }
                        "Xception2" => {
                            let mut e = svc.new_struct("Xception2").unwrap();
                            e.set("errorCode", 2002).unwrap();
                            let mut x = svc.new_struct("Xtruct").unwrap();
                            x.set("string_thing", "This is an Xception2").unwrap();
                            e.set("struct_thing", x).unwrap();
                            Err(HandlerError::Exception(e))
                        }
                        _ => {
                            let mut x = svc.new_struct("Xtruct").unwrap();
                            x.set("string_thing", a1).unwrap();
                            Ok(Some(Value::Struct(x)))
                        }
                    }
                }
                "testOneway" => {
                    let Value::I32(secs) = arg(&args, "secondsToSleep")? else {
                        unreachable!()
                    };
                    tokio::time::sleep(Duration::from_secs(secs.clamp(0, 10) as u64)).await;
                    oneways.fetch_add(1, Ordering::SeqCst);
                    Ok(None)
                }
                m => Err(HandlerError::Application(ApplicationException::new(
                    ApplicationErrorKind::UnknownMethod,
                    format!("unknown method {m}"),
                ))),
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Comparing values without regard to set and map order

/// A rendering of `v` in which set elements and map entries are sorted.
pub fn canon(v: &Value) -> String {
    match v {
        Value::Struct(s) => {
            let mut out = format!("{}{{", s.name());
            for (name, v) in s.fields().unwrap() {
                let _ = write!(out, "{name}: {}, ", canon(&v));
            }
            out + "}"
        }
        Value::List(xs) => format!("[{}]", xs.iter().map(canon).collect::<Vec<_>>().join(", ")),
        Value::Set(xs) => {
            let mut xs: Vec<_> = xs.iter().map(canon).collect();
            xs.sort();
            format!("set{{{}}}", xs.join(", "))
        }
        Value::Map(kvs) => {
            let mut xs: Vec<_> = kvs
                .iter()
                .map(|(k, v)| format!("{} => {}", canon(k), canon(v)))
                .collect();
            xs.sort();
            format!("map{{{}}}", xs.join(", "))
        }
        Value::Double(d) => format!("Double({:#x})", d.to_bits()),
        v => format!("{v:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The client side

/// Calls every method of ThriftTest and checks every answer. Returns the number of checks, or
/// every failure.
#[derive(Default)]
struct Checker {
    checks: usize,
    failures: Vec<String>,
}

impl Checker {
    fn expect(&mut self, what: String, got: Result<Option<Value>, RpcError>, want: Option<Value>) {
        self.checks += 1;
        match got {
            Ok(v) => {
                let (g, w) = (v.as_ref().map(canon), want.as_ref().map(canon));
                if g != w {
                    self.failures.push(format!("{what}: got {g:?}, want {w:?}"));
                }
            }
            Err(e) => self.failures.push(format!("{what}: error {e}")),
        }
    }
}

pub async fn run_client(client: &DynClient) -> Result<usize, String> {
    let svc = client.service().clone();
    let mut c = Checker::default();

    async fn call(
        client: &DynClient,
        method: &str,
        args: &[(&str, Value)],
    ) -> Result<Option<Value>, RpcError> {
        let mut a = client.args(method)?;
        for (k, v) in args {
            a.set(k, v.clone()).map_err(RpcError::Codec)?;
        }
        client.call(method, &a).await
    }

    c.expect("testVoid".into(), call(client, "testVoid", &[]).await, None);

    let long = "Python".repeat(20);
    let unicode = "Grüße, 世界! 🎉 \"q\" \\ \u{0} \t ñ — Ελληνικά, עברית, русский";
    for s in ["", "Test", long.as_str(), unicode] {
        let v = Value::String(s.into());
        c.expect(
            format!("testString({s:?})"),
            call(client, "testString", &[("thing", v.clone())]).await,
            Some(v),
        );
    }
    for b in [true, false] {
        let v = Value::Bool(b);
        c.expect(
            format!("testBool({b})"),
            call(client, "testBool", &[("thing", v.clone())]).await,
            Some(v),
        );
    }
    for b in [1i8, 0, -1, 63, i8::MIN, i8::MAX] {
        let v = Value::I8(b);
        c.expect(
            format!("testByte({b})"),
            call(client, "testByte", &[("thing", v.clone())]).await,
            Some(v),
        );
    }
    for i in [-1i32, 0, 1, i32::MIN, i32::MAX] {
        let v = Value::I32(i);
        c.expect(
            format!("testI32({i})"),
            call(client, "testI32", &[("thing", v.clone())]).await,
            Some(v),
        );
    }
    for l in [0i64, -34359738368, i64::MIN, i64::MAX] {
        let v = Value::I64(l);
        c.expect(
            format!("testI64({l})"),
            call(client, "testI64", &[("thing", v.clone())]).await,
            Some(v),
        );
    }
    for d in [
        -5.235098235,
        0.0,
        -0.0,
        1e300,
        f64::MIN_POSITIVE,
        f64::INFINITY,
    ] {
        let v = Value::Double(d);
        c.expect(
            format!("testDouble({d})"),
            call(client, "testDouble", &[("thing", v.clone())]).await,
            Some(v),
        );
    }
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    for b in [Vec::new(), all_bytes] {
        let v = Value::Binary(b.clone().into());
        c.expect(
            format!("testBinary({} bytes)", b.len()),
            call(client, "testBinary", &[("thing", v.clone())]).await,
            Some(v),
        );
    }
    let x = Value::Struct(xtruct(&svc, "Zero", 1, -3, -5));
    c.expect(
        "testStruct".into(),
        call(client, "testStruct", &[("thing", x.clone())]).await,
        Some(x.clone()),
    );
    let mut x2 = svc.new_struct("Xtruct2").unwrap();
    x2.set("byte_thing", 1i8).unwrap();
    x2.set("struct_thing", x.clone()).unwrap();
    x2.set("i32_thing", 5).unwrap();
    let x2 = Value::Struct(x2);
    c.expect(
        "testNest".into(),
        call(client, "testNest", &[("thing", x2.clone())]).await,
        Some(x2),
    );
    let m = int_map(&[(0, -10), (1, -9), (2, -8), (3, -7), (4, -6)]);
    c.expect(
        "testMap".into(),
        call(client, "testMap", &[("thing", m.clone())]).await,
        Some(m),
    );
    let sm = Value::Map(
        [
            ("a", "2"),
            ("b", "blah"),
            ("some", "thing"),
            ("", "empty"),
            ("ü", "🎉"),
        ]
        .iter()
        .map(|(k, v)| (Value::String((*k).into()), Value::String((*v).into())))
        .collect(),
    );
    c.expect(
        "testStringMap".into(),
        call(client, "testStringMap", &[("thing", sm.clone())]).await,
        Some(sm),
    );
    let set = Value::Set((-2..3).map(Value::I32).collect());
    c.expect(
        "testSet".into(),
        call(client, "testSet", &[("thing", set.clone())]).await,
        Some(set),
    );
    let list = Value::List([1, 2, 3, -4, 5, i32::MAX].map(Value::I32).to_vec());
    c.expect(
        "testList".into(),
        call(client, "testList", &[("thing", list.clone())]).await,
        Some(list),
    );
    for e in [ONE, TWO, THREE, FIVE, SIX, EIGHT] {
        let v = Value::I32(e);
        c.expect(
            format!("testEnum({e})"),
            call(client, "testEnum", &[("thing", v.clone())]).await,
            Some(v),
        );
    }
    let uid = Value::I64(309858235082523);
    c.expect(
        "testTypedef".into(),
        call(client, "testTypedef", &[("thing", uid.clone())]).await,
        Some(uid),
    );
    c.expect(
        "testMapMap".into(),
        call(client, "testMapMap", &[("hello", Value::I32(1))]).await,
        Some(map_map()),
    );
    let mut insanity = svc.new_struct("Insanity").unwrap();
    insanity
        .set(
            "userMap",
            Value::Map(vec![
                (Value::I32(FIVE), Value::I64(5)),
                (Value::I32(EIGHT), Value::I64(8)),
            ]),
        )
        .unwrap();
    insanity
        .set(
            "xtructs",
            Value::List(vec![
                Value::Struct(xtruct(&svc, "Goodbye4", 4, 4, 4)),
                Value::Struct(xtruct(&svc, "Hello2", 2, 2, 2)),
            ]),
        )
        .unwrap();
    let insanity = Value::Struct(insanity);
    c.expect(
        "testInsanity".into(),
        call(client, "testInsanity", &[("argument", insanity.clone())]).await,
        Some(insanity_reply(&svc, insanity)),
    );
    let arg3 = Value::Map(vec![
        (Value::I16(1), Value::String("one".into())),
        (Value::I16(2), Value::String("two".into())),
    ]);
    c.expect(
        "testMulti".into(),
        call(
            client,
            "testMulti",
            &[
                ("arg0", Value::I8(1)),
                ("arg1", Value::I32(2)),
                ("arg2", Value::I64(3)),
                ("arg3", arg3),
                ("arg4", Value::I32(TWO)),
                ("arg5", Value::I64(5)),
            ],
        )
        .await,
        Some(Value::Struct(xtruct(&svc, "Hello2", 1, 2, 3))),
    );

    // Exceptions.
    c.checks += 1;
    match call(client, "testException", &[("arg", "Xception".into())]).await {
        Err(RpcError::Exception(e))
            if e.name() == "Xception"
                && e.get("errorCode").unwrap() == Some(Value::I32(1001))
                && e.get("message").unwrap() == Some(Value::String("Xception".into())) => {}
        r => c
            .failures
            .push(format!("testException(Xception): got {r:?}")),
    }
    c.checks += 1;
    match call(client, "testException", &[("arg", "TException".into())]).await {
        Err(RpcError::Application(_)) => {}
        r => c
            .failures
            .push(format!("testException(TException): got {r:?}")),
    }
    c.expect(
        "testException(success)".into(),
        call(client, "testException", &[("arg", "success".into())]).await,
        None,
    );
    c.checks += 1;
    match call(
        client,
        "testMultiException",
        &[("arg0", "Xception".into()), ("arg1", "ignored".into())],
    )
    .await
    {
        Err(RpcError::Exception(e))
            if e.name() == "Xception"
                && e.get("errorCode").unwrap() == Some(Value::I32(1001))
                && e.get("message").unwrap()
                    == Some(Value::String("This is an Xception".into())) => {}
        r => c
            .failures
            .push(format!("testMultiException(Xception): got {r:?}")),
    }
    c.checks += 1;
    match call(
        client,
        "testMultiException",
        &[("arg0", "Xception2".into()), ("arg1", "ignored".into())],
    )
    .await
    {
        Err(RpcError::Exception(e))
            if e.name() == "Xception2"
                && e.get("errorCode").unwrap() == Some(Value::I32(2002))
                && matches!(e.get("struct_thing").unwrap(), Some(Value::Struct(x))
                    if x.get("string_thing").unwrap()
                        == Some(Value::String("This is an Xception2".into()))) => {}
        r => c
            .failures
            .push(format!("testMultiException(Xception2): got {r:?}")),
    }
    let mut want = svc.new_struct("Xtruct").unwrap();
    want.set("string_thing", "test string").unwrap();
    c.expect(
        "testMultiException(success)".into(),
        call(
            client,
            "testMultiException",
            &[("arg0", "Normal".into()), ("arg1", "test string".into())],
        )
        .await,
        Some(Value::Struct(want)),
    );

    // Oneway: returns as soon as it is written, although the server sleeps a second; the
    // connection keeps working.
    let start = Instant::now();
    let r = call(client, "testOneway", &[("secondsToSleep", Value::I32(1))]).await;
    let took = start.elapsed();
    c.expect("testOneway(1)".into(), r, None);
    c.checks += 1;
    if took >= Duration::from_millis(500) {
        c.failures.push(format!(
            "testOneway(1) took {took:?}: it waited for the server"
        ));
    }
    c.expect(
        "testI32 after testOneway".into(),
        call(client, "testI32", &[("thing", Value::I32(-1))]).await,
        Some(Value::I32(-1)),
    );

    if c.failures.is_empty() {
        Ok(c.checks)
    } else {
        Err(c.failures.join("\n"))
    }
}
