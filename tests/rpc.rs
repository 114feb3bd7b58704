//! The RPC layer (feature `tokio`): transports on partial, oversized and malformed input;
//! typed and IDL services; server robustness (garbage, oversized frames and abrupt
//! disconnects on one connection while another keeps working), application exceptions,
//! client timeouts and seqid matching, multiplexing, graceful shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use dynthrift::rpc::transport::{
    BufferedCodec, Frame, FramedCodec, TTHeader, TTHeaderCodec, Transport, TransportCodec,
};
use dynthrift::rpc::{
    Client, ClientConfig, DynClient, HandlerError, IdlService, Router, RpcError, Server,
};
use dynthrift::{
    ApplicationErrorKind, ApplicationException, Codec, Options, Protocol, TMessageType, Thrift,
    Value,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Decoder, Encoder};

// ---------------------------------------------------------------------------------------------
// Types and services

#[derive(Thrift, Debug, Clone, PartialEq)]
struct AddArgs {
    #[thrift(id = 1)]
    a: i32,
    #[thrift(id = 2)]
    b: i32,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
#[thrift(exception)]
struct Overflow {
    #[thrift(id = 1)]
    message: String,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct AddResult {
    #[thrift(id = 0)]
    success: Option<i32>,
    #[thrift(id = 1)]
    overflow: Option<Overflow>,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct SleepArgs {
    #[thrift(id = 1)]
    millis: i32,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct SleepResult {
    #[thrift(id = 0)]
    success: Option<i32>,
}

#[derive(Thrift, Debug, Clone, PartialEq)]
struct PingArgs {
    #[thrift(id = 1)]
    n: i32,
}

const CALC_IDL: &str = r#"
exception Overflow { 1: string message }
service Base { i32 sleep(1: i32 millis) }
service Calc extends Base {
    i32 add(1: i32 a, 2: i32 b) throws (1: Overflow overflow),
    oneway void ping(1: i32 n),
    void fail(),
}
"#;

fn calc_service() -> Arc<IdlService> {
    IdlService::new(dynthrift::idl::parse_str(CALC_IDL).unwrap(), "Calc").unwrap()
}

async fn add(args: AddArgs) -> Result<AddResult, ApplicationException> {
    Ok(match args.a.checked_add(args.b) {
        Some(s) => AddResult {
            success: Some(s),
            overflow: None,
        },
        None => AddResult {
            success: None,
            overflow: Some(Overflow {
                message: format!("{} + {} overflows", args.a, args.b),
            }),
        },
    })
}

async fn sleep(args: SleepArgs) -> Result<SleepResult, ApplicationException> {
    tokio::time::sleep(Duration::from_millis(args.millis as u64)).await;
    Ok(SleepResult {
        success: Some(args.millis),
    })
}

/// The Calc service with typed handlers; `pings` counts oneway pings.
fn typed_router(pings: Arc<AtomicUsize>) -> Router {
    Router::new()
        .typed("add", add)
        .typed("sleep", sleep)
        .typed_oneway("ping", move |a: PingArgs| {
            let pings = pings.clone();
            async move {
                pings.fetch_add(a.n as usize, Ordering::SeqCst);
            }
        })
        .typed("fail", |_: PingArgs| async {
            if true {
                panic!("handler bug");
            }
            Ok(SleepResult { success: None })
        })
}

async fn serve(
    router: Router,
    transport: Transport,
    protocol: Protocol,
) -> dynthrift::rpc::ServerHandle {
    Server::new(router)
        .transport(transport)
        .protocol(protocol)
        .max_frame(64 * 1024)
        .bind("127.0.0.1:0")
        .await
        .unwrap()
}

fn config(transport: Transport, protocol: Protocol) -> ClientConfig {
    ClientConfig::default()
        .transport(transport)
        .protocol(protocol)
        .timeout(Some(Duration::from_secs(10)))
}

const ALL: [(Transport, Protocol); 6] = [
    (Transport::Buffered, Protocol::Binary),
    (Transport::Buffered, Protocol::Compact),
    (Transport::Framed, Protocol::Binary),
    (Transport::Framed, Protocol::Compact),
    (Transport::TTHeader, Protocol::Binary),
    (Transport::TTHeader, Protocol::Compact),
];

fn message(
    protocol: Protocol,
    name: &str,
    kind: TMessageType,
    seqid: i32,
    args: &AddArgs,
) -> Vec<u8> {
    let codec = Codec::<AddArgs>::with_options(Options::default().protocol(protocol)).unwrap();
    let mut out = Vec::new();
    codec
        .encode_message(name, kind, seqid, args, &mut out)
        .unwrap();
    out
}

// ---------------------------------------------------------------------------------------------
// Transports

#[test]
fn framed_waits_for_the_whole_frame() {
    let msg = message(
        Protocol::Binary,
        "add",
        TMessageType::Call,
        7,
        &AddArgs { a: 1, b: 2 },
    );
    let mut wire = BytesMut::new();
    FramedCodec::new()
        .encode(Bytes::from(msg.clone()), &mut wire)
        .unwrap();
    assert_eq!(&wire[..4], &(msg.len() as u32).to_be_bytes());
    let mut codec = FramedCodec::new();
    let mut buf = BytesMut::new();
    for (i, b) in wire.iter().enumerate() {
        buf.put_u8(*b);
        let got = codec.decode(&mut buf).unwrap();
        if i + 1 < wire.len() {
            assert_eq!(got, None, "a frame after {} of {} bytes", i + 1, wire.len());
        } else {
            assert_eq!(got.as_deref(), Some(&msg[..]));
        }
    }
    assert!(buf.is_empty());
}

#[test]
fn framed_rejects_oversized_and_negative_lengths() {
    let mut codec = FramedCodec::new().max_frame(100);
    let mut buf = BytesMut::from(&101u32.to_be_bytes()[..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(RpcError::FrameTooLarge { len: 101, max: 100 })
    ));
    let mut buf = BytesMut::from(&(-1i32).to_be_bytes()[..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(RpcError::Transport(_))
    ));
    // Exactly the maximum is fine.
    let mut buf = BytesMut::from(&100u32.to_be_bytes()[..]);
    buf.put_bytes(0, 100);
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap().len(), 100);
    // Writing an oversized frame is refused too.
    let mut out = BytesMut::new();
    assert!(matches!(
        codec.encode(Bytes::from(vec![0; 101]), &mut out),
        Err(RpcError::FrameTooLarge { .. })
    ));
    assert!(out.is_empty());
}

#[test]
fn buffered_finds_message_ends_by_walking() {
    for protocol in [Protocol::Binary, Protocol::Compact] {
        let m1 = message(
            protocol,
            "add",
            TMessageType::Call,
            1,
            &AddArgs { a: 1, b: 2 },
        );
        let m2 = message(
            protocol,
            "add",
            TMessageType::Call,
            2,
            &AddArgs { a: -5, b: i32::MAX },
        );
        let wire = [m1.clone(), m2.clone()].concat();
        let mut codec = BufferedCodec::new(protocol);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        // Byte by byte: nothing until a message is complete, then exactly that message.
        for (i, b) in wire.iter().enumerate() {
            buf.put_u8(*b);
            while let Some(m) = codec.decode(&mut buf).unwrap() {
                // Where the message ended in the stream.
                got.push((m.to_vec(), i + 1 - buf.len()));
            }
        }
        assert_eq!(
            got,
            vec![(m1.clone(), m1.len()), (m2, wire.len())],
            "{protocol:?}"
        );
        // All at once.
        let mut buf = BytesMut::from(&wire[..]);
        assert_eq!(codec.decode(&mut buf).unwrap().as_deref(), Some(&m1[..]));
        assert!(codec.decode(&mut buf).unwrap().is_some());
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
    }
}

#[test]
fn buffered_rejects_garbage_and_oversized_messages() {
    // Not a message header (bad version / protocol id).
    for protocol in [Protocol::Binary, Protocol::Compact] {
        let mut codec = BufferedCodec::new(protocol);
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\n\r\n"[..]);
        let r = codec.decode(&mut buf);
        assert!(
            matches!(r, Err(RpcError::Codec(_)) | Err(RpcError::Transport(_))),
            "{protocol:?}: {r:?}"
        );
    }
    // A struct with an undefined type code.
    let mut m = message(
        Protocol::Binary,
        "add",
        TMessageType::Call,
        1,
        &AddArgs { a: 1, b: 2 },
    );
    m[15] = 0x55; // the first field's type: after the 15-byte envelope of "add"

    let mut buf = BytesMut::from(&m[..]);
    assert!(matches!(
        BufferedCodec::new(Protocol::Binary).decode(&mut buf),
        Err(RpcError::Codec(_))
    ));
    // A message that never ends within the maximum: a string declared 1 MB long.
    let mut codec = BufferedCodec::new(Protocol::Binary).max_frame(1000);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(
        &message(
            Protocol::Binary,
            "add",
            TMessageType::Call,
            1,
            &AddArgs { a: 1, b: 2 },
        )[..15],
    );
    buf.put_u8(11);
    buf.put_i16(3);
    buf.put_u32(1 << 20);
    assert_eq!(
        codec.decode(&mut buf).unwrap(),
        None,
        "incomplete, under the maximum"
    );
    buf.put_bytes(b'x', 1000);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(RpcError::FrameTooLarge { .. })
    ));
}

#[test]
fn ttheader_layout_and_roundtrip() {
    let mut h = TTHeader::new(0x01020304, Protocol::Compact);
    h.str_kvs.push(("k".into(), "vv".into()));
    h.int_kvs.push((9, "add".into()));
    h.acl_token = Some("t".into());
    let payload = Bytes::from_static(b"PAYLOAD");
    let mut wire = BytesMut::new();
    TTHeaderCodec::new()
        .encode((&h, payload.clone()), &mut wire)
        .unwrap();
    #[rustfmt::skip]
    let header: &[u8] = &[
        0x02, 0x00,                         // protocol id compact, no transforms
        0x01, 0, 1, 0, 1, b'k', 0, 2, b'v', b'v', // INFO_KEYVALUE, one pair
        0x10, 0, 1, 0, 9, 0, 3, b'a', b'd', b'd', // INFO_INTKEYVALUE, one pair
        0x11, 0, 1, b't',                   // ACL token
        0, 0,                               // padding to a multiple of 4
    ];
    let mut want = Vec::new();
    want.extend_from_slice(&((10 + header.len() + payload.len()) as u32).to_be_bytes());
    want.extend_from_slice(&[0x10, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04]);
    want.extend_from_slice(&((header.len() / 4) as u16).to_be_bytes());
    want.extend_from_slice(header);
    want.extend_from_slice(&payload);
    assert_eq!(&wire[..], &want[..]);

    let mut codec = TTHeaderCodec::new();
    let mut buf = BytesMut::new();
    for (i, b) in wire.iter().enumerate() {
        buf.put_u8(*b);
        let got = codec.decode(&mut buf).unwrap();
        if i + 1 < wire.len() {
            assert!(got.is_none());
        } else {
            assert_eq!(got, Some((h.clone(), payload.clone())));
        }
    }
    assert_eq!(h.get("k"), Some("vv"));
    assert_eq!(h.get_int(9), Some("add"));
}

#[test]
fn ttheader_rejects_malformed_headers() {
    let mut good = BytesMut::new();
    TTHeaderCodec::new()
        .encode(
            (
                &TTHeader::new(1, Protocol::Binary),
                Bytes::from_static(b"x"),
            ),
            &mut good,
        )
        .unwrap();
    let bad = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut w = good.to_vec();
        edit(&mut w);
        TTHeaderCodec::new()
            .max_frame(1000)
            .decode(&mut BytesMut::from(&w[..]))
    };
    assert!(bad(&|_| {}).unwrap().is_some());
    // Wrong magic, even before the frame is complete.
    let mut partial = BytesMut::from(&[0, 0, 0, 20, 0x80, 0x01][..]);
    assert!(matches!(
        TTHeaderCodec::new().decode(&mut partial),
        Err(RpcError::Transport(m)) if m.contains("magic")
    ));
    // Header size past the end of the frame.
    assert!(matches!(
        bad(&|w| w[12..14].copy_from_slice(&[0, 200])),
        Err(RpcError::Transport(_))
    ));
    // Unknown protocol id.
    assert!(matches!(bad(&|w| w[14] = 7), Err(RpcError::Transport(_))));
    // Transforms are not supported.
    assert!(matches!(bad(&|w| w[15] = 1), Err(RpcError::Transport(_))));
    // Too large.
    assert!(matches!(
        bad(&|w| w[0..4].copy_from_slice(&5000u32.to_be_bytes())),
        Err(RpcError::FrameTooLarge { .. })
    ));
    // An unknown info id, and a key/value block running past the header.
    let with_info = |info: &[u8]| {
        let mut w = vec![0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut header = vec![0, 0];
        header.extend_from_slice(info);
        while header.len() % 4 != 0 {
            header.push(0);
        }
        w[12..14].copy_from_slice(&((header.len() / 4) as u16).to_be_bytes());
        w.extend_from_slice(&header);
        let len = (w.len() - 4) as u32;
        w[0..4].copy_from_slice(&len.to_be_bytes());
        TTHeaderCodec::new().decode(&mut BytesMut::from(&w[..]))
    };
    assert!(with_info(&[0x01, 0, 0]).unwrap().is_some());
    assert!(matches!(with_info(&[0x42]), Err(RpcError::Transport(_))));
    assert!(matches!(
        with_info(&[0x01, 0, 1, 0, 50]),
        Err(RpcError::Transport(_))
    ));
    assert!(matches!(
        with_info(&[0x01, 0, 1, 0, 2, 0xff, 0xfe, 0, 0]),
        Err(RpcError::Transport(_))
    ));
}

#[test]
fn transport_codec_carries_headers_only_for_ttheader() {
    let payload = Bytes::from_static(b"abc");
    for t in [Transport::Framed, Transport::TTHeader] {
        let mut c = TransportCodec::new(t, Protocol::Binary, 1000);
        let mut wire = BytesMut::new();
        let frame = Frame {
            header: Some(Box::new(TTHeader::new(5, Protocol::Binary))),
            payload: payload.clone(),
        };
        c.encode(frame, &mut wire).unwrap();
        let got = c.decode(&mut wire).unwrap().unwrap();
        assert_eq!(got.payload, payload);
        assert_eq!(
            got.header.map(|h| h.seqid),
            (t == Transport::TTHeader).then_some(5)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Typed services

#[tokio::test]
async fn typed_calls_over_every_transport_and_protocol() {
    for (transport, protocol) in ALL {
        let pings = Arc::new(AtomicUsize::new(0));
        let server = serve(typed_router(pings.clone()), transport, protocol).await;
        let client = Client::connect(server.local_addr(), config(transport, protocol))
            .await
            .unwrap();
        let r: AddResult = client.call("add", &AddArgs { a: 40, b: 2 }).await.unwrap();
        assert_eq!(
            r,
            AddResult {
                success: Some(42),
                overflow: None
            }
        );
        // A declared exception is a typed value.
        let r: AddResult = client
            .call("add", &AddArgs { a: i32::MAX, b: 1 })
            .await
            .unwrap();
        assert_eq!(
            r,
            AddResult {
                success: None,
                overflow: Some(Overflow {
                    message: "2147483647 + 1 overflows".into()
                })
            }
        );
        client.oneway("ping", &PingArgs { n: 3 }).await.unwrap();
        // The same through a method handle (codecs built once).
        let add_method = client.method::<AddArgs, AddResult>("add").unwrap();
        for i in 0..3 {
            let r = add_method.call(&AddArgs { a: i, b: 10 }).await.unwrap();
            assert_eq!(r.success, Some(i + 10));
        }
        // The oneway was sent before this call on the same connection.
        let r: SleepResult = client
            .call("sleep", &SleepArgs { millis: 1 })
            .await
            .unwrap();
        assert_eq!(r.success, Some(1));
        let start = Instant::now();
        while pings.load(Ordering::SeqCst) != 3 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the oneway call never ran"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn application_exceptions() {
    let server = serve(
        typed_router(Default::default()),
        Transport::Framed,
        Protocol::Binary,
    )
    .await;
    let client = Client::connect(
        server.local_addr(),
        config(Transport::Framed, Protocol::Binary),
    )
    .await
    .unwrap();
    // Unknown method.
    let e = client
        .call::<AddArgs, AddResult>("nope", &AddArgs { a: 1, b: 2 })
        .await;
    assert!(
        matches!(&e, Err(RpcError::Application(a)) if a.error_kind() == ApplicationErrorKind::UnknownMethod && a.message.contains("nope")),
        "{e:?}"
    );
    // Arguments that do not decode (an i32 field cut short): a protocol error.
    let bad = client
        .call_raw("add", false, |out| {
            out.extend_from_slice(&[8, 0, 1, 0, 0]); // an i32 field cut short
            Ok(())
        })
        .await
        .unwrap()
        .unwrap();
    let (h, at) = dynthrift::read_message_header(&bad.payload, Protocol::Binary).unwrap();
    assert_eq!((h.name, h.kind), ("add", TMessageType::Exception));
    let ae: ApplicationException = dynthrift::decode(&bad.payload[at..]).unwrap();
    assert_eq!(ae.error_kind(), ApplicationErrorKind::ProtocolError, "{ae}");
    // A handler that panics: internal error, and the connection keeps working.
    let e = client
        .call::<PingArgs, SleepResult>("fail", &PingArgs { n: 0 })
        .await;
    assert!(
        matches!(&e, Err(RpcError::Application(a)) if a.error_kind() == ApplicationErrorKind::InternalError),
        "{e:?}"
    );
    let r: AddResult = client.call("add", &AddArgs { a: 1, b: 2 }).await.unwrap();
    assert_eq!(r.success, Some(3));
    // A message that is not a call: an exception naming the message type, with its seqid.
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let msg = message(
        Protocol::Binary,
        "add",
        TMessageType::Reply,
        99,
        &AddArgs { a: 1, b: 1 },
    );
    let mut wire = BytesMut::new();
    FramedCodec::new()
        .encode(Bytes::from(msg), &mut wire)
        .unwrap();
    s.write_all(&wire).await.unwrap();
    let mut buf = BytesMut::new();
    let reply = loop {
        if let Some(f) = FramedCodec::new().decode(&mut buf).unwrap() {
            break f;
        }
        assert!(s.read_buf(&mut buf).await.unwrap() > 0);
    };
    let (h, at) = dynthrift::read_message_header(&reply, Protocol::Binary).unwrap();
    assert_eq!(
        (h.name, h.kind, h.seqid),
        ("add", TMessageType::Exception, 99)
    );
    let ae: ApplicationException = dynthrift::decode(&reply[at..]).unwrap();
    assert_eq!(ae.error_kind(), ApplicationErrorKind::InvalidMessageType);
    still_works(&client).await;
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// IDL services

#[tokio::test]
async fn dynamic_client_against_typed_server_and_back() {
    let svc = calc_service();
    assert_eq!(
        svc.methods()
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["sleep", "add", "ping", "fail"],
        "inherited methods first"
    );
    // Dynamic client → typed server.
    let server = serve(
        typed_router(Default::default()),
        Transport::Framed,
        Protocol::Compact,
    )
    .await;
    let client = DynClient::connect(
        server.local_addr(),
        config(Transport::Framed, Protocol::Compact),
        svc.clone(),
    )
    .await
    .unwrap();
    let mut args = client.args("add").unwrap();
    args.set("a", 20).unwrap();
    args.set("b", 22).unwrap();
    assert_eq!(
        client.call("add", &args).await.unwrap(),
        Some(Value::I32(42))
    );
    args.set("a", i32::MAX).unwrap();
    match client.call("add", &args).await {
        Err(RpcError::Exception(e)) => {
            assert_eq!(e.name(), "Overflow");
            assert_eq!(
                e.get("message").unwrap(),
                Some(Value::String("2147483647 + 22 overflows".into()))
            );
        }
        r => panic!("expected the declared exception, got {r:?}"),
    }
    // Arguments of another method are refused before anything is sent.
    assert!(matches!(
        client.call("sleep", &args).await,
        Err(RpcError::Config(_))
    ));
    server.shutdown().await;

    // Typed client → dynamic server.
    let s2 = svc.clone();
    let router = Router::new().dynamic_service(&svc, move |method, args| {
        let svc = s2.clone();
        async move {
            match &*method {
                "add" => {
                    let (Some(Value::I32(a)), Some(Value::I32(b))) =
                        (args.get("a").unwrap(), args.get("b").unwrap())
                    else {
                        return Err(ApplicationException::new(
                            ApplicationErrorKind::ProtocolError,
                            "args",
                        )
                        .into());
                    };
                    match a.checked_add(b) {
                        Some(s) => Ok(Some(Value::I32(s))),
                        None => {
                            let mut e = svc.new_struct("Overflow").unwrap();
                            e.set("message", "too big").unwrap();
                            Err(HandlerError::Exception(e))
                        }
                    }
                }
                "sleep" => Ok(args.get("millis").unwrap()),
                "fail" => Err(ApplicationException::new(
                    ApplicationErrorKind::InternalError,
                    "failed on purpose",
                )
                .into()),
                _ => Ok(None),
            }
        }
    });
    let server = serve(router, Transport::Buffered, Protocol::Binary).await;
    let client = Client::connect(
        server.local_addr(),
        config(Transport::Buffered, Protocol::Binary),
    )
    .await
    .unwrap();
    let r: AddResult = client.call("add", &AddArgs { a: 1, b: 2 }).await.unwrap();
    assert_eq!(r.success, Some(3));
    let r: AddResult = client
        .call("add", &AddArgs { a: i32::MIN, b: -1 })
        .await
        .unwrap();
    assert_eq!(
        r.overflow,
        Some(Overflow {
            message: "too big".into()
        })
    );
    let r: SleepResult = client
        .call("sleep", &SleepArgs { millis: 9 })
        .await
        .unwrap();
    assert_eq!(r.success, Some(9));
    let e = client
        .call::<PingArgs, SleepResult>("fail", &PingArgs { n: 1 })
        .await;
    assert!(
        matches!(&e, Err(RpcError::Application(a)) if a.message == "failed on purpose"),
        "{e:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn router_configuration_errors_are_reported_at_start() {
    let svc = calc_service();
    let router = Router::new().dynamic(&svc, "nope", |_, _| async { Ok(None) });
    let e = Server::new(router).bind("127.0.0.1:0").await.unwrap_err();
    assert!(
        matches!(&e, RpcError::Config(m) if m.contains("nope")),
        "{e}"
    );
    let router = Router::new().typed("add", add).typed("add", add);
    let e = Server::new(router).bind("127.0.0.1:0").await.unwrap_err();
    assert!(
        matches!(&e, RpcError::Config(m) if m.contains("twice")),
        "{e}"
    );
}

#[tokio::test]
async fn multiplexed() {
    let router = Router::new()
        .mount("Calc", typed_router(Default::default()))
        .mount(
            "Other",
            Router::new().typed("add", |a: AddArgs| async move {
                Ok(AddResult {
                    success: Some(a.a * a.b),
                    overflow: None,
                })
            }),
        );
    let server = serve(router, Transport::Framed, Protocol::Binary).await;
    let calc = Client::connect(
        server.local_addr(),
        config(Transport::Framed, Protocol::Binary).multiplexed("Calc"),
    )
    .await
    .unwrap();
    let other = Client::connect(
        server.local_addr(),
        config(Transport::Framed, Protocol::Binary).multiplexed("Other"),
    )
    .await
    .unwrap();
    let plain = Client::connect(
        server.local_addr(),
        config(Transport::Framed, Protocol::Binary),
    )
    .await
    .unwrap();
    let r: AddResult = calc.call("add", &AddArgs { a: 3, b: 4 }).await.unwrap();
    assert_eq!(r.success, Some(7));
    let r: AddResult = other.call("add", &AddArgs { a: 3, b: 4 }).await.unwrap();
    assert_eq!(r.success, Some(12));
    let e = plain
        .call::<AddArgs, AddResult>("add", &AddArgs { a: 3, b: 4 })
        .await;
    assert!(
        matches!(e, Err(RpcError::Application(a)) if a.error_kind() == ApplicationErrorKind::UnknownMethod)
    );
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Robustness

/// Checks that `client` still gets answers.
async fn still_works(client: &Client) {
    let r: AddResult = client.call("add", &AddArgs { a: 5, b: 6 }).await.unwrap();
    assert_eq!(r.success, Some(11));
}

/// Reads until the server closes the connection; fails if it does not within 5 s.
async fn closed_by_server(mut s: TcpStream) {
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => panic!("the server kept a bad connection open"),
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn bad_connections_do_not_disturb_others() {
    for (transport, protocol) in ALL {
        let server = serve(typed_router(Default::default()), transport, protocol).await;
        let addr = server.local_addr();
        let good = Client::connect(addr, config(transport, protocol))
            .await
            .unwrap();
        still_works(&good).await;

        // Garbage.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"\x7f\xff\xff\xf0GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        closed_by_server(s).await;
        still_works(&good).await;

        // A frame larger than the maximum (64 KiB here).
        let mut s = TcpStream::connect(addr).await.unwrap();
        let big = AddArgs { a: 0, b: 0 };
        let mut msg = message(protocol, "add", TMessageType::Call, 1, &big);
        msg.truncate(msg.len() - 1); // drop the stop byte; pad with a huge string field
        msg.extend_from_slice(&[11, 0, 9]);
        msg.extend_from_slice(&(100_000u32).to_be_bytes());
        msg.extend(std::iter::repeat_n(b'x', 100_000));
        msg.push(0);
        let mut wire = BytesMut::new();
        let mut codec = TransportCodec::new(transport, protocol, usize::MAX >> 2);
        let header =
            (transport == Transport::TTHeader).then(|| Box::new(TTHeader::new(1, protocol)));
        codec
            .encode(
                Frame {
                    header,
                    payload: msg.into(),
                },
                &mut wire,
            )
            .unwrap();
        // The server may close before everything is written.
        let _ = s.write_all(&wire).await;
        closed_by_server(s).await;
        still_works(&good).await;

        // A connection that drops half-way through a message.
        let mut s = TcpStream::connect(addr).await.unwrap();
        let m = message(
            protocol,
            "add",
            TMessageType::Call,
            1,
            &AddArgs { a: 1, b: 2 },
        );
        s.write_all(&m[..m.len() / 2]).await.unwrap();
        drop(s);
        still_works(&good).await;

        // A framed message whose envelope is bad.
        if transport == Transport::Framed {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(&[0, 0, 0, 4, 0x80, 0x01, 0x00, 0x09])
                .await
                .unwrap();
            closed_by_server(s).await;
        }
        still_works(&good).await;
        // Nothing leaked: the bad connections are gone.
        let start = Instant::now();
        while server.connections() != 1 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{} connections",
                server.connections()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.shutdown().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Client: seqids, timeouts, closed connections

#[tokio::test]
async fn concurrent_calls_are_matched_by_seqid() {
    let server = serve(
        typed_router(Default::default()),
        Transport::TTHeader,
        Protocol::Binary,
    )
    .await;
    let client = Client::connect(
        server.local_addr(),
        config(Transport::TTHeader, Protocol::Binary),
    )
    .await
    .unwrap();
    // Later calls finish first: replies come back out of order on one connection.
    let calls = (0..20).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            let millis = 200 - i * 10;
            let r: SleepResult = client.call("sleep", &SleepArgs { millis }).await.unwrap();
            assert_eq!(r.success, Some(millis));
        })
    });
    let start = Instant::now();
    for c in calls.collect::<Vec<_>>() {
        c.await.unwrap();
    }
    // They ran concurrently: far less than the sum of the sleeps (2.1 s).
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn stray_seqids_are_ignored() {
    // A hand-written server that first answers with a seqid nobody asked for.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut codec = FramedCodec::new();
        let mut buf = BytesMut::new();
        let req = loop {
            if let Some(f) = codec.decode(&mut buf).unwrap() {
                break f;
            }
            s.read_buf(&mut buf).await.unwrap();
        };
        let (h, _) = dynthrift::read_message_header(&req, Protocol::Binary).unwrap();
        let reply = |seqid, v| {
            let codec = Codec::<AddResult>::new().unwrap();
            let mut out = Vec::new();
            codec
                .encode_message(
                    "add",
                    TMessageType::Reply,
                    seqid,
                    &AddResult {
                        success: Some(v),
                        overflow: None,
                    },
                    &mut out,
                )
                .unwrap();
            let mut wire = BytesMut::new();
            FramedCodec::new()
                .encode(Bytes::from(out), &mut wire)
                .unwrap();
            wire
        };
        s.write_all(&reply(h.seqid.wrapping_add(1000), -1))
            .await
            .unwrap();
        s.write_all(&reply(h.seqid, 77)).await.unwrap();
        // Keep the connection until the client is done.
        let _ = s.read(&mut [0u8; 1]).await;
    });
    let client = Client::connect(addr, config(Transport::Framed, Protocol::Binary))
        .await
        .unwrap();
    let r: AddResult = client.call("add", &AddArgs { a: 0, b: 0 }).await.unwrap();
    assert_eq!(r.success, Some(77));
    drop(client);
    fake.await.unwrap();
}

#[tokio::test]
async fn timeouts_and_late_replies() {
    let server = serve(
        typed_router(Default::default()),
        Transport::Framed,
        Protocol::Binary,
    )
    .await;
    let client = Client::connect(
        server.local_addr(),
        config(Transport::Framed, Protocol::Binary).timeout(Some(Duration::from_millis(100))),
    )
    .await
    .unwrap();
    let start = Instant::now();
    let e = client
        .call::<SleepArgs, SleepResult>("sleep", &SleepArgs { millis: 400 })
        .await;
    assert!(matches!(e, Err(RpcError::Timeout(_))), "{e:?}");
    assert!(start.elapsed() < Duration::from_millis(350));
    // The late reply arrives while this call waits; it is not taken for this call's reply.
    let r: SleepResult = client
        .call("sleep", &SleepArgs { millis: 50 })
        .await
        .unwrap();
    assert_eq!(r.success, Some(50));
    tokio::time::sleep(Duration::from_millis(400)).await;
    still_works(&client).await;
    server.shutdown().await;
}

#[tokio::test]
async fn calls_fail_once_the_connection_is_gone() {
    let server = serve(
        typed_router(Default::default()),
        Transport::Framed,
        Protocol::Binary,
    )
    .await;
    let client = Client::connect(
        server.local_addr(),
        config(Transport::Framed, Protocol::Binary),
    )
    .await
    .unwrap();
    still_works(&client).await;
    // A call in flight when the server goes away gets its reply first (graceful shutdown),
    let pending = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call::<SleepArgs, SleepResult>("sleep", &SleepArgs { millis: 200 })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.shutdown().await;
    assert_eq!(pending.await.unwrap().unwrap().success, Some(200));
    // then the connection is closed and further calls fail at once.
    let start = Instant::now();
    let e = client
        .call::<AddArgs, AddResult>("add", &AddArgs { a: 1, b: 1 })
        .await;
    assert!(
        matches!(
            e,
            Err(RpcError::Closed) | Err(RpcError::Transport(_)) | Err(RpcError::Io(_))
        ),
        "{e:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let server = serve(
        typed_router(Default::default()),
        Transport::Framed,
        Protocol::Binary,
    )
    .await;
    let addr = server.local_addr();
    server.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());
}
