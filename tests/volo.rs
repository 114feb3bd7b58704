//! Volo and pilota integration (feature `volo`): derived types as pilota `Message`s on every
//! pilota protocol (fast path and protocol-call fallback), and IDL services called and served
//! through volo-thrift (TTHeader + framed + Binary on loopback) against a volo side whose
//! messages are written by hand the way pilota generates them.

mod volo_peer;

use std::net::SocketAddr;
use std::sync::OnceLock;

use bytes::{Bytes, BytesMut};
use dynthrift::rpc::IdlService;
use dynthrift::volo::pilota::thrift::binary::{TAsyncBinaryProtocol, TBinaryProtocol};
use dynthrift::volo::pilota::thrift::compact::{
    TAsyncCompactProtocol, TCompactInputProtocol, TCompactOutputProtocol,
};
use dynthrift::volo::pilota::thrift::{Message, ThriftException};
use dynthrift::volo::volo::FastStr;
use dynthrift::volo::{DescribeService, DynRequest, DynResponse};
use dynthrift::{Codec, Options, Thrift, Value};
use dynthrift_testkit::workloads;
use std::sync::Arc;

use volo_peer::{PItem, POops, PReq, PResp};

#[derive(Thrift, Clone, Debug, PartialEq)]
struct Item {
    #[thrift(id = 1, required)]
    id: i64,
    #[thrift(id = 2)]
    name: String,
    #[thrift(id = 3)]
    tags: Vec<i32>,
    #[thrift(id = 4)]
    blob: Option<Bytes>,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
enum Choice {
    #[thrift(id = 1)]
    Num(i64),
    #[thrift(id = 2)]
    Text(String),
}

fn item(id: i64) -> Item {
    Item {
        id,
        name: format!("item {id}"),
        tags: vec![1, -2, 3, i32::MAX],
        blob: Some(Bytes::from_static(b"\x00\x01binary\xff")),
    }
}

// ---------------------------------------------------------------------------------------------
// pilota `Message` on pilota's protocols.

/// Binary: pilota's writer and reader give dynthrift's bytes and value; the reader stops right
/// after the struct.
fn check_binary<T: Message + dynthrift::Describe + PartialEq + std::fmt::Debug>(v: &T) {
    let want = Codec::<T>::new().unwrap().encode(v).unwrap();

    let mut out = BytesMut::new();
    v.encode(&mut TBinaryProtocol::new(&mut out, true)).unwrap();
    assert!(out[..] == want[..], "binary bytes differ");

    let mut lp = TBinaryProtocol::new((), true);
    assert_eq!(v.size(&mut lp), want.len());

    let mut input = Bytes::from([&want[..], b"rest"].concat());
    let back = T::decode(&mut TBinaryProtocol::new(&mut input, true)).unwrap();
    assert!(&back == v, "binary round trip differs");
    assert_eq!(&input[..], b"rest");
}

/// Compact: pilota's writer and reader give dynthrift's bytes and value, and stop right after
/// the struct.
fn check_compact<T: Message + dynthrift::Describe + PartialEq + std::fmt::Debug>(v: &T) {
    let want = Codec::<T>::with_options(Options::compact())
        .unwrap()
        .encode(v)
        .unwrap();
    let mut out = BytesMut::new();
    v.encode(&mut TCompactOutputProtocol::new(&mut out, true))
        .unwrap();
    assert!(out[..] == want[..], "compact bytes differ");
    let mut lp = TCompactOutputProtocol::new((), true);
    assert_eq!(v.size(&mut lp), want.len());

    let mut input = Bytes::from([&want[..], b"rest"].concat());
    let back = T::decode(&mut TCompactInputProtocol::new(&mut input)).unwrap();
    assert!(&back == v, "compact round trip differs");
    assert_eq!(&input[..], b"rest");
}

/// Async decode reads through the protocol's calls (volo's unframed path). pilota 0.13.1's
/// async Compact reader reads doubles big-endian and loses field-id state after a nested
/// struct, so Compact is checked only on types without either (`compact`).
fn check_async<T: Message + dynthrift::Describe + PartialEq + std::fmt::Debug>(
    v: &T,
    compact: bool,
) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bin = Codec::<T>::new().unwrap().encode(v).unwrap();
    let packed = Codec::<T>::with_options(Options::compact())
        .unwrap()
        .encode(v)
        .unwrap();
    rt.block_on(async {
        let mut r: &[u8] = &bin;
        let back = T::decode_async(&mut TAsyncBinaryProtocol::new(&mut r))
            .await
            .unwrap();
        assert!(&back == v, "async binary differs");
        assert!(r.is_empty());
        if compact {
            let mut r: &[u8] = &packed;
            let back = T::decode_async(&mut TAsyncCompactProtocol::new(&mut r))
                .await
                .unwrap();
            assert!(&back == v, "async compact differs");
            assert!(r.is_empty());
        }
    });
}

#[test]
fn message_binary_fast_path() {
    check_binary(&item(7));
    check_binary(&Choice::Text("hello".into()));
    check_binary(&workloads::simple());
    check_binary(&workloads::nesting());
    check_binary(&workloads::nesting2());
}

#[test]
fn message_compact() {
    check_compact(&item(7));
    check_compact(&Choice::Num(-5));
    check_compact(&workloads::simple());
    check_compact(&workloads::nesting());
    check_compact(&workloads::nesting2());
}

#[test]
fn message_async_decode() {
    check_async(&item(7), true);
    check_async(&Choice::Text("x".into()), true);
    check_async(&workloads::nesting(), false);
    check_async(&workloads::nesting2(), false);
}

/// A derived type inside pilota-style code: the outer struct's decode continues right after
/// it, on both protocols.
#[test]
fn message_nested_in_pilota_code() {
    let outer = volo_peer::Wrap {
        before: 11,
        inner: item(3),
        after: "tail".into(),
    };
    let mut out = BytesMut::new();
    outer
        .encode(&mut TBinaryProtocol::new(&mut out, true))
        .unwrap();
    let mut input = out.freeze();
    let back = volo_peer::Wrap::decode(&mut TBinaryProtocol::new(&mut input, true)).unwrap();
    assert_eq!(back, outer);

    let mut out = BytesMut::new();
    outer
        .encode(&mut TCompactOutputProtocol::new(&mut out, true))
        .unwrap();
    let mut input = out.freeze();
    let back = volo_peer::Wrap::decode(&mut TCompactInputProtocol::new(&mut input)).unwrap();
    assert_eq!(back, outer);
}

/// The derived type and pilota-style hand-written code agree on the bytes.
#[test]
fn message_matches_pilota_style_code() {
    let p = PItem {
        id: 9,
        name: Some("item 9".into()),
        tags: Some(vec![1, -2, 3, i32::MAX]),
        blob: Some(Bytes::from_static(b"\x00\x01binary\xff")),
    };
    let mut a = BytesMut::new();
    p.encode(&mut TBinaryProtocol::new(&mut a, true)).unwrap();
    let mut b = BytesMut::new();
    item(9)
        .encode(&mut TBinaryProtocol::new(&mut b, true))
        .unwrap();
    assert_eq!(a, b);
}

/// A protocol without a fast path (pilota's little-endian Binary) goes through the protocol's
/// calls both ways and agrees with pilota-style code on the bytes.
#[test]
fn message_protocol_call_fallback() {
    use dynthrift::volo::pilota::thrift::binary_le::TBinaryProtocol as TLe;
    let p = PItem {
        id: 9,
        name: Some("item 9".into()),
        tags: Some(vec![1, -2, 3, i32::MAX]),
        blob: Some(Bytes::from_static(b"\x00\x01binary\xff")),
    };
    let mut a = BytesMut::new();
    p.encode(&mut TLe::new(&mut a, true)).unwrap();
    let mut b = BytesMut::new();
    item(9).encode(&mut TLe::new(&mut b, true)).unwrap();
    assert_eq!(a, b);
    assert_ne!(
        &b[..],
        &Codec::<Item>::new().unwrap().encode(&item(9)).unwrap()[..]
    );
    assert_eq!(
        item(9).size(&mut TLe::new(&mut BytesMut::new(), true)),
        b.len()
    );
    let mut input = Bytes::from([&b[..], b"rest"].concat());
    assert_eq!(
        Item::decode(&mut TLe::new(&mut input, true)).unwrap(),
        item(9)
    );
    assert_eq!(&input[..], b"rest");
    // Deeper values (lists, maps, nested structs, doubles) on the same protocol.
    fn le_round_trip<T: Message + PartialEq>(v: &T) {
        let mut out = BytesMut::new();
        v.encode(&mut TLe::new(&mut out, true)).unwrap();
        assert_eq!(v.size(&mut TLe::new(&mut BytesMut::new(), true)), out.len());
        let mut input = out.freeze();
        assert!(T::decode(&mut TLe::new(&mut input, true)).unwrap() == *v);
        assert!(input.is_empty());
    }
    le_round_trip(&workloads::nesting());
    le_round_trip(&workloads::nesting2());
    le_round_trip(&Choice::Text("le".into()));
}

#[test]
fn message_bad_input_is_an_error() {
    let bytes = Codec::<Item>::new().unwrap().encode(&item(1)).unwrap();
    for cut in 0..bytes.len() {
        let mut input = Bytes::copy_from_slice(&bytes[..cut]);
        assert!(Item::decode(&mut TBinaryProtocol::new(&mut input, true)).is_err());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut r: &[u8] = &bytes[..cut];
        let r = rt.block_on(Item::decode_async(&mut TAsyncBinaryProtocol::new(&mut r)));
        assert!(r.is_err(), "cut at {cut}");
    }
    // A missing required field names the field.
    let mut input = Bytes::from_static(&[0]);
    let e = Item::decode(&mut TBinaryProtocol::new(&mut input, true)).unwrap_err();
    assert!(e.to_string().contains("id"), "{e}");
    // Deep nesting of unknown fields is refused by the collector too.
    let mut deep = Vec::new();
    for _ in 0..100 {
        deep.extend_from_slice(&[12, 0, 9]);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut r: &[u8] = &deep;
    let e = rt
        .block_on(Item::decode_async(&mut TAsyncBinaryProtocol::new(&mut r)))
        .unwrap_err();
    assert!(e.to_string().contains("deeper"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// IDL services through volo-thrift.

const ECHO_IDL: &str = r#"
struct Item {
    1: required i64 id,
    2: string name,
    3: list<i32> tags,
    4: optional binary blob,
}
exception Oops { 1: string why }
service Echo {
    Item echo(1: Item item) throws (1: Oops oops),
    i32 add(1: i32 a, 2: i32 b),
}
"#;

struct EchoIdl;

fn echo_service() -> &'static Arc<IdlService> {
    static S: OnceLock<Arc<IdlService>> = OnceLock::new();
    S.get_or_init(|| IdlService::new(dynthrift::idl::parse_str(ECHO_IDL).unwrap(), "Echo").unwrap())
}

impl DescribeService for EchoIdl {
    fn service() -> &'static IdlService {
        echo_service()
    }
}

type Req = DynRequest<EchoIdl>;
type Resp = DynResponse<EchoIdl>;

fn dyn_item(id: i64) -> dynthrift::DynStruct {
    let types = EchoIdl::service().types();
    let mut v = dynthrift::DynStruct::new(types, "Item").unwrap();
    v.set("id", id).unwrap();
    v.set("name", format!("item {id}")).unwrap();
    v.set(
        "tags",
        Value::List(vec![Value::I32(1), Value::I32(-2), Value::I32(3)]),
    )
    .unwrap();
    v.set("blob", Value::Binary(Bytes::from_static(b"\x00blob")))
        .unwrap();
    v
}

/// The IDL service served through volo-thrift with dynthrift's codecs: echo returns the item,
/// or throws `Oops` for a negative id; add adds.
#[derive(Clone)]
struct DynEchoServer;

impl
    dynthrift::volo::volo::service::Service<
        dynthrift::volo::volo_thrift::context::ServerContext,
        Req,
    > for DynEchoServer
{
    type Response = Resp;
    type Error = dynthrift::volo::volo_thrift::ServerError;

    async fn call(
        &self,
        _cx: &mut dynthrift::volo::volo_thrift::context::ServerContext,
        req: Req,
    ) -> Result<Resp, Self::Error> {
        let svc = EchoIdl::service();
        let m = svc.method(&req.method).unwrap();
        let mut result = dynthrift::DynStruct::new_by_id(svc.types(), m.result).unwrap();
        match &*req.method {
            "echo" => {
                let Some(Value::Struct(item)) = req.args.get("item").unwrap() else {
                    panic!("no item")
                };
                let Some(Value::I64(id)) = item.get("id").unwrap() else {
                    panic!("no id")
                };
                if id < 0 {
                    let mut oops = dynthrift::DynStruct::new(svc.types(), "Oops").unwrap();
                    oops.set("why", format!("negative id {id}")).unwrap();
                    result.set("oops", oops).unwrap();
                } else {
                    result.set("success", item).unwrap();
                }
            }
            "add" => {
                let Some(Value::I32(a)) = req.args.get("a").unwrap() else {
                    panic!()
                };
                let Some(Value::I32(b)) = req.args.get("b").unwrap() else {
                    panic!()
                };
                result.set("success", a.wrapping_add(b)).unwrap();
            }
            m => panic!("unexpected method {m}"),
        }
        Ok(Resp::new(req.method, result))
    }
}

async fn spawn_server<S, Q>(svc: S) -> (SocketAddr, tokio::task::JoinHandle<()>)
where
    S: dynthrift::volo::volo::service::Service<
            dynthrift::volo::volo_thrift::context::ServerContext,
            Q,
            Error = dynthrift::volo::volo_thrift::ServerError,
        > + Send
        + Sync
        + 'static,
    S::Response: dynthrift::volo::volo_thrift::EntryMessage + Send + Sync + 'static,
    Q: dynthrift::volo::volo_thrift::EntryMessage + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = dynthrift::volo::volo::net::incoming::DefaultIncoming::from(listener);
    let h = tokio::spawn(async move {
        let _ = dynthrift::volo::volo_thrift::server::Server::new(svc)
            .run(incoming)
            .await;
    });
    (addr, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volo_client_pilota_calls_volo_server_dynthrift_idl() {
    let (addr, server) = spawn_server(DynEchoServer).await;
    let client = volo_peer::client::<PReq, PResp>(addr);

    for id in [0i64, 5, 1 << 40] {
        let want = PItem {
            id,
            name: Some(format!("item {id}").into()),
            tags: Some(vec![id as i32, 2, 3]),
            blob: Some(Bytes::from(vec![id as u8; 3])),
        };
        let resp = volo_peer::call(&client, "echo", PReq::Echo(want.clone())).await;
        match resp {
            Ok(PResp::Echo(Ok(got))) => assert_eq!(got, want),
            other => panic!("echo {id}: {other:?}"),
        }
    }
    let resp = volo_peer::call(&client, "echo", PReq::Echo(PItem::with_id(-3))).await;
    match resp {
        Ok(PResp::Echo(Err(POops { why }))) => {
            assert_eq!(why.as_deref(), Some("negative id -3"))
        }
        other => panic!("{other:?}"),
    }
    let resp = volo_peer::call(&client, "add", PReq::Add(40, 2)).await;
    assert!(matches!(resp, Ok(PResp::Add(42))), "{resp:?}");
    // An unknown method: the server answers with an application exception.
    let resp = volo_peer::call(&client, "nope", PReq::Add(1, 1)).await;
    let e = resp.unwrap_err();
    assert!(e.to_string().contains("unknown method nope"), "{e}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volo_client_dynthrift_idl_calls_volo_server_pilota() {
    let (addr, server) = spawn_server(volo_peer::PilotaEchoServer).await;
    let client = volo_peer::client::<Req, Resp>(addr);
    let svc = EchoIdl::service();

    for id in [0i64, 9] {
        let mut args = svc.args("echo").unwrap();
        args.set("item", dyn_item(id)).unwrap();
        let resp = volo_peer::call(&client, "echo", Req::new("echo", args))
            .await
            .unwrap();
        assert_eq!(&*resp.method, "echo");
        let Some(Value::Struct(got)) = resp.result.get("success").unwrap() else {
            panic!("{resp:?}")
        };
        assert_eq!(got, dyn_item(id));
    }

    let mut args = svc.args("echo").unwrap();
    args.set("item", dyn_item(-1)).unwrap();
    let resp = volo_peer::call(&client, "echo", Req::new("echo", args))
        .await
        .unwrap();
    assert!(resp.result.get("success").unwrap().is_none());
    let Some(Value::Struct(oops)) = resp.result.get("oops").unwrap() else {
        panic!("{resp:?}")
    };
    assert_eq!(
        oops.get("why").unwrap(),
        Some(Value::String("negative id -1".into()))
    );

    let mut args = svc.args("add").unwrap();
    args.set("a", 40i32).unwrap();
    args.set("b", 2i32).unwrap();
    let resp = volo_peer::call(&client, "add", Req::new("add", args))
        .await
        .unwrap();
    assert_eq!(resp.result.get("success").unwrap(), Some(Value::I32(42)));
    server.abort();
}

/// Derived types as pilota messages inside hand-written volo request/response types (what
/// volo's generated glue does with pilota's structs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volo_client_derived_types_calls_volo_server_pilota() {
    let (addr, server) = spawn_server(volo_peer::PilotaEchoServer).await;
    let client = volo_peer::client::<volo_peer::DReq<Item>, volo_peer::DResp<Item>>(addr);
    for id in [1i64, 77] {
        let resp = volo_peer::call(&client, "echo", volo_peer::DReq(item(id)))
            .await
            .unwrap();
        assert_eq!(resp.0, Ok(item(id)));
    }
    let resp = volo_peer::call(&client, "echo", volo_peer::DReq(item(-8)))
        .await
        .unwrap();
    assert_eq!(resp.0, Err(FastStr::from("negative id -8")));
    server.abort();
}

#[test]
fn idl_service_describes_methods() {
    let svc = EchoIdl::service();
    assert_eq!(svc.name(), "Echo");
    let mut names: Vec<_> = svc.methods().iter().map(|m| m.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["add", "echo"]);
    assert!(svc.args("nope").is_err());
    let m = svc.method("echo").unwrap();
    let r = dynthrift::DynStruct::new_by_id(svc.types(), m.result).unwrap();
    assert!(r.get("success").unwrap().is_none());
    let _ = ThriftException::from(std::io::Error::other("x"));
}

// ---------------------------------------------------------------------------------------------
// volo-thrift against dynthrift's own server and client (`dynthrift::rpc`), TTHeader + framed
// + Binary on loopback.

/// The echo service of `ECHO_IDL` on dynthrift's server with IDL-only values.
async fn dynthrift_server() -> dynthrift::rpc::ServerHandle {
    use dynthrift::rpc::{HandlerError, Router, Server, Transport};
    let svc = echo_service().clone();
    let types = svc.types().clone();
    let router = Router::new().dynamic_service(&svc, move |method, args| {
        let types = types.clone();
        async move {
            match &*method {
                "echo" => {
                    let Some(Value::Struct(item)) = args.get("item").unwrap() else {
                        panic!("no item")
                    };
                    let Some(Value::I64(id)) = item.get("id").unwrap() else {
                        panic!("no id")
                    };
                    if id < 0 {
                        let mut oops = dynthrift::DynStruct::new(&types, "Oops").unwrap();
                        oops.set("why", format!("negative id {id}")).unwrap();
                        return Err(HandlerError::Exception(oops));
                    }
                    Ok(Some(Value::Struct(item)))
                }
                "add" => {
                    let (Some(Value::I32(a)), Some(Value::I32(b))) =
                        (args.get("a").unwrap(), args.get("b").unwrap())
                    else {
                        panic!("bad add args")
                    };
                    Ok(Some(Value::I32(a.wrapping_add(b))))
                }
                m => panic!("unexpected method {m}"),
            }
        }
    });
    Server::new(router)
        .transport(Transport::TTHeader)
        .bind("127.0.0.1:0")
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volo_client_calls_dynthrift_server() {
    let server = dynthrift_server().await;
    let client = volo_peer::client::<PReq, PResp>(server.local_addr());

    // Concurrent calls over the client's connection pool.
    let mut calls = Vec::new();
    for id in 0..32i64 {
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            let want = PItem {
                id,
                name: Some(format!("item {id}").into()),
                tags: Some(vec![id as i32; (id % 5) as usize]),
                blob: (id % 2 == 0).then(|| Bytes::from(vec![id as u8; id as usize])),
            };
            match volo_peer::call(&client, "echo", PReq::Echo(want.clone())).await {
                Ok(PResp::Echo(Ok(got))) => assert_eq!(got, want),
                other => panic!("echo {id}: {other:?}"),
            }
        }));
    }
    for c in calls {
        c.await.unwrap();
    }
    match volo_peer::call(&client, "echo", PReq::Echo(PItem::with_id(-4))).await {
        Ok(PResp::Echo(Err(POops { why }))) => assert_eq!(why.as_deref(), Some("negative id -4")),
        other => panic!("{other:?}"),
    }
    let resp = volo_peer::call(&client, "add", PReq::Add(-5, 8)).await;
    assert!(matches!(resp, Ok(PResp::Add(3))), "{resp:?}");
    // Unknown method: dynthrift's server answers with an application exception.
    let e = volo_peer::call(&client, "nope", PReq::Add(1, 1))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynthrift_client_calls_volo_server() {
    use dynthrift::rpc::{Client, ClientConfig, DynClient, RpcError, Transport};
    let (addr, server) = spawn_server(volo_peer::PilotaEchoServer).await;
    let config = ClientConfig::default().transport(Transport::TTHeader);

    // IDL-only values.
    let client = DynClient::connect(addr, config.clone(), echo_service().clone())
        .await
        .unwrap();
    for id in [0i64, 12, -1] {
        let mut args = client.args("echo").unwrap();
        args.set("item", dyn_item(id)).unwrap();
        match client.call("echo", &args).await {
            Ok(Some(Value::Struct(got))) if id >= 0 => assert_eq!(got, dyn_item(id)),
            Err(RpcError::Exception(e)) if id < 0 => {
                assert_eq!(e.name(), "Oops");
                assert_eq!(
                    e.get("why").unwrap(),
                    Some(Value::String("negative id -1".into()))
                );
            }
            other => panic!("echo {id}: {other:?}"),
        }
    }
    let mut args = client.args("add").unwrap();
    args.set("a", 20i32).unwrap();
    args.set("b", 22i32).unwrap();
    assert_eq!(
        client.call("add", &args).await.unwrap(),
        Some(Value::I32(42))
    );

    // Derived types, many calls in flight on one connection.
    #[derive(Thrift, Clone, Debug, PartialEq)]
    struct EchoArgs {
        #[thrift(id = 1)]
        item: Item,
    }
    #[derive(Thrift, Clone, Debug, PartialEq)]
    struct Oops {
        #[thrift(id = 1)]
        why: String,
    }
    #[derive(Thrift, Clone, Debug, PartialEq)]
    struct EchoResult {
        #[thrift(id = 0)]
        success: Option<Item>,
        #[thrift(id = 1)]
        oops: Option<Oops>,
    }
    let client = Client::connect(addr, config).await.unwrap();
    let mut calls = Vec::new();
    for id in -2..30i64 {
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            let r: EchoResult = client
                .call("echo", &EchoArgs { item: item(id) })
                .await
                .unwrap();
            if id < 0 {
                assert_eq!(r.success, None);
                assert_eq!(r.oops.unwrap().why, format!("negative id {id}"));
            } else {
                assert_eq!(r.success, Some(item(id)));
                assert_eq!(r.oops, None);
            }
        }));
    }
    for c in calls {
        c.await.unwrap();
    }
    server.abort();
}
