//! The tokio server: an accept loop, one task per connection, requests of a connection served
//! concurrently (replies carry the request's seqid, in completion order), graceful shutdown.
//!
//! A connection whose bytes cannot be framed or whose message header cannot be read is closed;
//! other connections are not affected. Arguments that do not decode get a `TApplicationException`
//! (protocol error) and the connection stays open.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use dynthrift_core::wire::Protocol;
use dynthrift_core::{ApplicationErrorKind, ApplicationException, TMessageType};
use dynthrift_interp::Limits;

use crate::codec::read_message_header;
use crate::rpc::service::{BoxFuture, Outcome, Request, Router};
use crate::rpc::transport::{DEFAULT_MAX_FRAME, Frame, TTHeader, Transport, TransportCodec};
use crate::rpc::{RpcError, exception_message, write_message_begin};

/// How a server reads and writes.
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig {
    pub transport: Transport,
    /// The protocol of buffered and framed connections (TTHeader frames name their own).
    pub protocol: Protocol,
    pub max_frame: usize,
    /// Decode limits for arguments.
    pub limits: Limits,
    /// Requests of one connection served at once; reading waits beyond that.
    pub max_in_flight: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            transport: Transport::Framed,
            protocol: Protocol::Binary,
            max_frame: DEFAULT_MAX_FRAME,
            limits: Limits::default(),
            max_in_flight: 64,
        }
    }
}

/// A Thrift server: a [`Router`] and a configuration.
#[derive(Debug)]
pub struct Server {
    router: Router,
    config: ServerConfig,
}

impl Server {
    pub fn new(router: Router) -> Server {
        Server {
            router,
            config: ServerConfig::default(),
        }
    }

    pub fn transport(mut self, t: Transport) -> Server {
        self.config.transport = t;
        self
    }

    pub fn protocol(mut self, p: Protocol) -> Server {
        self.config.protocol = p;
        self
    }

    pub fn max_frame(mut self, n: usize) -> Server {
        self.config.max_frame = n;
        self
    }

    pub fn config(mut self, config: ServerConfig) -> Server {
        self.config = config;
        self
    }

    /// Binds `addr` and serves in a background task of the current tokio runtime.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> Result<ServerHandle, RpcError> {
        self.serve(TcpListener::bind(addr).await?)
    }

    /// Serves connections accepted from `listener` in a background task.
    pub fn serve(self, listener: TcpListener) -> Result<ServerHandle, RpcError> {
        if let Some(e) = &self.router.error {
            return Err(RpcError::Config(e.clone()));
        }
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            router: self.router,
            config: self.config,
            connections: AtomicUsize::new(0),
        });
        let token = CancellationToken::new();
        let tracker = TaskTracker::new();
        let accept = tokio::spawn(accept_loop(
            listener,
            shared.clone(),
            token.clone(),
            tracker.clone(),
        ));
        Ok(ServerHandle {
            addr,
            shared,
            token,
            tracker,
            accept: Some(accept),
        })
    }

    /// Serves one already-connected stream (any `AsyncRead + AsyncWrite`) until it closes.
    pub async fn serve_connection<S>(self, stream: S) -> Result<(), RpcError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        if let Some(e) = &self.router.error {
            return Err(RpcError::Config(e.clone()));
        }
        let shared = Arc::new(Shared {
            router: self.router,
            config: self.config,
            connections: AtomicUsize::new(0),
        });
        serve_conn(stream, shared, CancellationToken::new()).await
    }
}

struct Shared {
    router: Router,
    config: ServerConfig,
    connections: AtomicUsize,
}

/// A running server. Dropping it stops accepting and closes connections after their
/// requests in flight (like [`ServerHandle::shutdown`], without waiting).
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    token: CancellationToken,
    tracker: TaskTracker,
    accept: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("router", &self.router)
            .field("config", &self.config)
            .finish()
    }
}

impl ServerHandle {
    /// The address the server listens on (with the port the OS chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Stops accepting, lets every connection finish the requests it has read (their replies
    /// are sent), closes the connections, and waits until all of that is done.
    pub async fn shutdown(mut self) {
        self.token.cancel();
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
        self.tracker.close();
        self.tracker.wait().await;
    }

    /// Waits until the server stops (after [`ServerHandle::shutdown`] from another task, or
    /// never).
    pub async fn wait(&self) {
        self.token.cancelled().await;
        self.tracker.wait().await;
    }

    /// A token that shuts the server down when cancelled (from anywhere).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.token.clone()
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    token: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = token.cancelled() => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let token = token.clone();
                tracker.spawn(async move {
                    shared.connections.fetch_add(1, Ordering::Relaxed);
                    let _ = serve_conn(stream, shared.clone(), token).await;
                    shared.connections.fetch_sub(1, Ordering::Relaxed);
                });
            }
            // Out of file descriptors and the like: wait a little instead of spinning.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
    tracker.close();
}

/// What one request turns into.
enum Dispatch {
    /// Nothing to send (a oneway call that has already been handled or dropped).
    None,
    /// A reply ready at once (an error).
    Now(Frame),
    /// A handler is running.
    Later(BoxFuture<Option<Frame>>),
}

fn reply_frame(header: Option<&TTHeader>, protocol: Protocol, seqid: i32, msg: Vec<u8>) -> Frame {
    Frame {
        header: header.map(|h| {
            Box::new(TTHeader {
                framed: h.framed,
                ..TTHeader::new(seqid, protocol)
            })
        }),
        payload: msg.into(),
    }
}

fn dispatch(shared: &Shared, frame: Frame) -> Result<Dispatch, RpcError> {
    let protocol = frame
        .header
        .as_ref()
        .map_or(shared.config.protocol, |h| h.protocol);
    let (h, at) = read_message_header(&frame.payload, protocol)?;
    let seqid = h.seqid;
    let hdr = frame.header.as_deref();
    // Multiplexed calls are answered with the bare method name, as Apache's processors do.
    let reply_name = h.name.split_once(':').map_or(h.name, |(_, m)| m);
    let exception = |e: ApplicationException| -> Result<Dispatch, RpcError> {
        let msg = exception_message(protocol, reply_name, seqid, &e)?;
        Ok(Dispatch::Now(reply_frame(hdr, protocol, seqid, msg)))
    };
    let kind = h.kind;
    if !matches!(kind, TMessageType::Call | TMessageType::Oneway) {
        return exception(ApplicationException::new(
            ApplicationErrorKind::InvalidMessageType,
            format!("expected a call, got a message of type {kind:?}"),
        ));
    }
    let Some(handler) = shared.router.handlers.get(h.name) else {
        if kind == TMessageType::Oneway {
            return Ok(Dispatch::None);
        }
        return exception(ApplicationException::new(
            ApplicationErrorKind::UnknownMethod,
            format!("unknown method {}", h.name),
        ));
    };
    let oneway = kind == TMessageType::Oneway || handler.oneway();
    let mut out = Vec::new();
    write_message_begin(&mut out, protocol, reply_name, TMessageType::Reply, seqid)?;
    let reply_name = reply_name.to_string();
    // Replies mirror the request's TTHeader framing.
    let header = frame.header.as_ref().map(|h| h.framed);
    let fut = handler.call(Request {
        protocol,
        limits: shared.config.limits,
        body: frame.payload.slice(at..),
        out,
    });
    Ok(Dispatch::Later(Box::pin(async move {
        let outcome = fut.await;
        if oneway {
            return None;
        }
        let msg = match outcome {
            Outcome::Nothing => return None,
            Outcome::Reply(msg) => msg,
            Outcome::Exception(e) => exception_message(protocol, &reply_name, seqid, &e).ok()?,
        };
        Some(Frame {
            header: header.map(|framed| {
                Box::new(TTHeader {
                    framed,
                    ..TTHeader::new(seqid, protocol)
                })
            }),
            payload: msg.into(),
        })
    })))
}

async fn serve_conn<S>(
    stream: S,
    shared: Arc<Shared>,
    token: CancellationToken,
) -> Result<(), RpcError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = &shared.config;
    let codec = TransportCodec::new(config.transport, config.protocol, config.max_frame);
    let mut framed = Framed::new(stream, codec);
    let mut in_flight = FuturesUnordered::new();
    let mut reading = true;
    let max = config.max_in_flight.max(1);
    loop {
        if !reading && in_flight.is_empty() {
            break;
        }
        tokio::select! {
            Some(reply) = in_flight.next(), if !in_flight.is_empty() => {
                if let Some(frame) = reply {
                    framed.send(frame).await?;
                }
            }
            next = framed.next(), if reading && in_flight.len() < max => match next {
                Some(Ok(frame)) => match dispatch(&shared, frame)? {
                    Dispatch::None => {}
                    Dispatch::Now(frame) => framed.send(frame).await?,
                    Dispatch::Later(fut) => in_flight.push(fut),
                },
                // A malformed frame: nothing can be answered reliably; close.
                Some(Err(e)) => return Err(e),
                None => reading = false,
            },
            _ = token.cancelled(), if reading => reading = false,
        }
    }
    let _ = framed.close().await;
    Ok(())
}
