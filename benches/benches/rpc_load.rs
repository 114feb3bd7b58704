//! Loopback load: an echo service (`Simple echo(1: Simple req)`, the workload `Simple` in and
//! the same value back), many concurrent connections each sending calls back to back, every
//! reply checked against the request. Throughput and latency percentiles for:
//!
//! - dynthrift's server and client (`dynthrift::rpc`, derived types on the JIT codec);
//! - volo-thrift's server and client with pilota's generated code (`pilota-build` in
//!   `baselines/`, the volo glue written here the way volo-build generates it);
//! - the two crossings (volo client to dynthrift server, dynthrift client to volo server).
//!
//! All use volo's default transport: TTHeader + framed + Binary. Server and clients share one
//! tokio runtime (2 worker threads unless `RPC_LOAD_THREADS` says otherwise), so the figures
//! are the whole round trip on this machine.
//!
//! `cargo bench -p dynthrift-benches --bench rpc_load` (`-- --quick` for a check that times
//! little). `RPC_LOAD_CONNS` (default 32) and `RPC_LOAD_SECS` (default 2, per row) adjust it.

#[allow(dead_code)]
#[path = "common/samples.rs"]
mod samples;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dynthrift::ApplicationException;
use dynthrift::Thrift;
use dynthrift::rpc::{Client, ClientConfig, Router, Server, Transport};
use dynthrift::volo::pilota::thrift::{
    Message, TAsyncInputProtocol, TInputProtocol, TLengthProtocol, TMessageIdentifier,
    TOutputProtocol, ThriftException,
};
use dynthrift::volo::volo::service::{BoxCloneService, Service};
use dynthrift::volo::volo_thrift::context::{ClientContext, ServerContext};
use dynthrift::volo::volo_thrift::{ClientError, EntryMessage, ServerError};
use dynthrift_baselines::pilota_gen::pilota::baseline::Simple as PSimple;
use dynthrift_baselines::pilota_gen::pilota::echo::{
    EchoServiceEchoArgsRecv, EchoServiceEchoArgsSend, EchoServiceEchoResultRecv,
    EchoServiceEchoResultSend,
};
use samples::fast::Simple;

// ---------------------------------------------------------------------------------------------
// dynthrift's side: derived argument and result structs.

#[derive(Thrift, Clone, Debug, PartialEq)]
struct EchoArgs {
    #[thrift(id = 1)]
    req: Simple,
}

#[derive(Thrift, Clone, Debug, PartialEq)]
struct EchoResult {
    #[thrift(id = 0)]
    success: Option<Simple>,
}

fn dynthrift_router() -> Router {
    Router::new().typed("echo", |a: EchoArgs| async move {
        Ok::<_, ApplicationException>(EchoResult {
            success: Some(a.req),
        })
    })
}

// ---------------------------------------------------------------------------------------------
// volo's side: pilota's generated structs, the request/response glue volo-build would write.

macro_rules! entry {
    ($name:ident, $inner:ty) => {
        #[derive(Clone, Debug)]
        struct $name($inner);

        impl EntryMessage for $name {
            fn encode<T: TOutputProtocol>(&self, p: &mut T) -> Result<(), ThriftException> {
                self.0.encode(p)
            }
            fn decode<T: TInputProtocol>(
                p: &mut T,
                ident: &TMessageIdentifier,
            ) -> Result<Self, ThriftException> {
                check_method(ident)?;
                Ok($name(<$inner>::decode(p)?))
            }
            async fn decode_async<T: TAsyncInputProtocol>(
                p: &mut T,
                ident: &TMessageIdentifier,
            ) -> Result<Self, ThriftException> {
                check_method(ident)?;
                Ok($name(<$inner>::decode_async(p).await?))
            }
            fn size<T: TLengthProtocol>(&self, p: &mut T) -> usize {
                self.0.size(p)
            }
        }
    };
}

fn check_method(ident: &TMessageIdentifier) -> Result<(), ThriftException> {
    if &*ident.name == "echo" {
        return Ok(());
    }
    Err(ThriftException::Application(
        dynthrift::volo::pilota::thrift::ApplicationException::new(
            dynthrift::volo::pilota::thrift::ApplicationExceptionKind::UNKNOWN_METHOD,
            format!("unknown method {}", ident.name),
        ),
    ))
}

entry!(ReqSend, EchoServiceEchoArgsSend);
entry!(ReqRecv, EchoServiceEchoArgsRecv);
entry!(RespSend, EchoServiceEchoResultSend);
entry!(RespRecv, EchoServiceEchoResultRecv);

#[derive(Clone)]
struct VoloEcho;

impl Service<ServerContext, ReqRecv> for VoloEcho {
    type Response = RespSend;
    type Error = ServerError;

    async fn call(&self, _cx: &mut ServerContext, req: ReqRecv) -> Result<RespSend, ServerError> {
        Ok(RespSend(EchoServiceEchoResultSend::Ok(req.0.req)))
    }
}

type VoloClient = dynthrift::volo::volo_thrift::Client<
    BoxCloneService<ClientContext, ReqSend, Option<RespRecv>, ClientError>,
>;

struct Mk;

/// Calls of the volo client retried after a transport error of its connection pool.
static VOLO_RETRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl<X> dynthrift::volo::volo::client::MkClient<dynthrift::volo::volo_thrift::Client<X>> for Mk {
    type Target = dynthrift::volo::volo_thrift::Client<X>;
    fn mk_client(&self, c: dynthrift::volo::volo_thrift::Client<X>) -> Self::Target {
        c
    }
}

fn volo_client(addr: SocketAddr) -> VoloClient {
    dynthrift::volo::volo_thrift::client::ClientBuilder::new("EchoService", Mk)
        .address(addr)
        .build()
}

async fn volo_server(addr_tx: tokio::sync::oneshot::Sender<SocketAddr>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    addr_tx.send(listener.local_addr().unwrap()).unwrap();
    let incoming = dynthrift::volo::volo::net::incoming::DefaultIncoming::from(listener);
    let _ = dynthrift::volo::volo_thrift::server::Server::new(VoloEcho)
        .run(incoming)
        .await;
}

// ---------------------------------------------------------------------------------------------
// The load loop.

struct Row {
    name: &'static str,
    calls: usize,
    secs: f64,
    lat: Vec<u64>,
}

/// Runs `conns` tasks; task `i` gets a caller from `make(i)` and calls it back to back until
/// the end, recording the latency of calls that end in the measured window (after `warm`).
async fn load<C, F, Fut>(
    conns: usize,
    warm: Duration,
    measure: Duration,
    make: F,
) -> (usize, Vec<u64>)
where
    F: Fn(usize) -> C,
    C: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let start = Instant::now() + Duration::from_millis(50);
    let from = start + warm;
    let until = from + measure;
    let mut tasks = Vec::new();
    for i in 0..conns {
        let mut call = make(i);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start.into()).await;
            let mut lat = Vec::new();
            loop {
                let t = Instant::now();
                if t >= until {
                    break;
                }
                call().await;
                let end = Instant::now();
                if t >= from && end <= until {
                    lat.push((end - t).as_nanos() as u64);
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("a load task failed (a reply did not check)"));
    }
    (all.len(), all)
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick" || a == "--test")
        || std::env::var("DYNTHRIFT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let conns = env_num("RPC_LOAD_CONNS", 32.0) as usize;
    let secs = if quick {
        0.2
    } else {
        env_num("RPC_LOAD_SECS", 2.0)
    };
    let threads = env_num("RPC_LOAD_THREADS", 2.0) as usize;
    let measure = Duration::from_secs_f64(secs);
    let warm = Duration::from_secs_f64((secs / 4.0).min(0.5));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    let rows = rt.block_on(run(conns, warm, measure));

    println!(
        "\nrpc_load: echo of `Simple` ({} bytes), TTHeader + framed + Binary, loopback, {conns} \
         connections, {threads} runtime threads, {secs} s per row (after {:.2} s warm-up); every reply checked\n",
        dynthrift::Codec::<Simple>::new()
            .unwrap()
            .encode(&samples::fast::simple())
            .unwrap()
            .len(),
        warm.as_secs_f64(),
    );
    println!("| server ← client | calls/s | p50 µs | p99 µs | p99.9 µs | calls |");
    println!("|---|---:|---:|---:|---:|---:|");
    for mut r in rows {
        r.lat.sort_unstable();
        println!(
            "| {} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
            r.name,
            r.calls as f64 / r.secs,
            pct(&r.lat, 0.50),
            pct(&r.lat, 0.99),
            pct(&r.lat, 0.999),
            r.calls,
        );
    }
    let retried = VOLO_RETRIES.load(std::sync::atomic::Ordering::Relaxed);
    if retried > 0 {
        println!("\n(volo client calls retried after a pool transport error: {retried})");
    }
    if let Some(load) = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
    {
        println!("\n(load average at the end: {load})");
    }
}

async fn run(conns: usize, warm: Duration, measure: Duration) -> Vec<Row> {
    let secs = measure.as_secs_f64();
    let want = samples::fast::simple();
    let want_p = samples::pilota::simple();

    // Both servers up for the whole run.
    let dyn_server = Server::new(dynthrift_router())
        .transport(Transport::TTHeader)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let dyn_addr = dyn_server.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let volo_task = tokio::spawn(volo_server(tx));
    let volo_addr = rx.await.unwrap();

    let mut rows = Vec::new();

    // Checks one call of each kind before timing anything.
    let dyn_call = |client: Client, want: Simple| {
        // A method handle: codecs built once, as generated clients have them.
        let method = Arc::new(client.method::<EchoArgs, EchoResult>("echo").unwrap());
        let args = EchoArgs { req: want.clone() };
        move || {
            let method = method.clone();
            let args = args.clone();
            let want = want.clone();
            async move {
                let r = method.call(&args).await.expect("echo call");
                assert_eq!(r.success.as_ref(), Some(&want), "echo reply differs");
            }
        }
    };
    let volo_call = |client: Arc<VoloClient>, want: PSimple| {
        move || {
            let client = client.clone();
            let want = want.clone();
            async move {
                // volo-thrift 0.12's connection pool now and then fails a call when a waiter's
                // connection goes elsewhere ("wait a idle connection error: RecvError", seen once
                // in CI): transport errors are retried (twice at most; an echo is idempotent)
                // and counted, and the count is printed with the table. Replies are always
                // checked.
                let mut tries = 0;
                let r = loop {
                    let mut cx = client.make_cx("echo", false);
                    let req = ReqSend(EchoServiceEchoArgsSend { req: want.clone() });
                    match client.call(&mut cx, req).await {
                        Ok(r) => break r.expect("a reply"),
                        Err(dynthrift::volo::volo_thrift::ClientError::Transport(e))
                            if tries < 2 =>
                        {
                            tries += 1;
                            VOLO_RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            eprintln!("volo client: transport error, retried: {e}");
                        }
                        Err(e) => panic!("echo call: {e:?}"),
                    }
                };
                match r.0 {
                    EchoServiceEchoResultRecv::Ok(got) => assert_eq!(got, want),
                    #[allow(unreachable_patterns)]
                    other => panic!("echo reply {other:?}"),
                }
            }
        }
    };

    let dyn_clients = |addr: SocketAddr| async move {
        let mut v = Vec::new();
        for _ in 0..conns {
            v.push(
                Client::connect(addr, ClientConfig::default().transport(Transport::TTHeader))
                    .await
                    .unwrap(),
            );
        }
        v
    };

    // dynthrift server ← dynthrift client
    let clients = dyn_clients(dyn_addr).await;
    dyn_call(clients[0].clone(), want.clone())().await;
    let (calls, lat) = load(conns, warm, measure, |i| {
        dyn_call(clients[i].clone(), want.clone())
    })
    .await;
    rows.push(Row {
        name: "dynthrift ← dynthrift",
        calls,
        secs,
        lat,
    });
    drop(clients);

    // volo + pilota server ← volo + pilota client
    let client = Arc::new(volo_client(volo_addr));
    volo_call(client.clone(), want_p.clone())().await;
    let (calls, lat) = load(conns, warm, measure, |_| {
        volo_call(client.clone(), want_p.clone())
    })
    .await;
    rows.push(Row {
        name: "volo+pilota ← volo+pilota",
        calls,
        secs,
        lat,
    });
    drop(client);

    // dynthrift server ← volo + pilota client
    let client = Arc::new(volo_client(dyn_addr));
    volo_call(client.clone(), want_p.clone())().await;
    let (calls, lat) = load(conns, warm, measure, |_| {
        volo_call(client.clone(), want_p.clone())
    })
    .await;
    rows.push(Row {
        name: "dynthrift ← volo+pilota",
        calls,
        secs,
        lat,
    });
    drop(client);

    // volo + pilota server ← dynthrift client
    let clients = dyn_clients(volo_addr).await;
    dyn_call(clients[0].clone(), want.clone())().await;
    let (calls, lat) = load(conns, warm, measure, |i| {
        dyn_call(clients[i].clone(), want.clone())
    })
    .await;
    rows.push(Row {
        name: "volo+pilota ← dynthrift",
        calls,
        secs,
        lat,
    });
    drop(clients);

    dyn_server.shutdown().await;
    volo_task.abort();
    rows
}
