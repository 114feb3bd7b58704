//! The tokio client. One connection, shared by clones of the [`Client`]; calls may run
//! concurrently: each gets a fresh seqid and its reply is matched by seqid (replies to calls
//! that timed out are dropped). A background task owns the connection; it ends when the
//! connection fails or every clone of the client is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::Framed;

use dynthrift_core::desc::Describe;
use dynthrift_core::wire::Protocol;
use dynthrift_core::{ApplicationException, ErrorKind, TMessageType};
use dynthrift_interp::{DynStruct, Limits, Value};

use crate::codec::{Codec, Options, read_message_header};
use crate::rpc::service::IdlService;
use crate::rpc::transport::{DEFAULT_MAX_FRAME, Frame, TTHeader, Transport, TransportCodec};
use crate::rpc::{RpcError, write_message_begin};

/// How a client reads and writes.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub transport: Transport,
    pub protocol: Protocol,
    pub max_frame: usize,
    pub limits: Limits,
    /// How long a call waits for its reply (`None`: forever).
    pub timeout: Option<Duration>,
    /// Apache's multiplexed protocol: method names are sent as `service:method`.
    pub multiplexed: Option<String>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            transport: Transport::Framed,
            protocol: Protocol::Binary,
            max_frame: DEFAULT_MAX_FRAME,
            limits: Limits::default(),
            timeout: Some(Duration::from_secs(30)),
            multiplexed: None,
        }
    }
}

impl ClientConfig {
    pub fn transport(mut self, t: Transport) -> ClientConfig {
        self.transport = t;
        self
    }
    pub fn protocol(mut self, p: Protocol) -> ClientConfig {
        self.protocol = p;
        self
    }
    pub fn max_frame(mut self, n: usize) -> ClientConfig {
        self.max_frame = n;
        self
    }
    pub fn timeout(mut self, t: Option<Duration>) -> ClientConfig {
        self.timeout = t;
        self
    }
    pub fn multiplexed(mut self, service: impl Into<String>) -> ClientConfig {
        self.multiplexed = Some(service.into());
        self
    }
}

/// A message to write, and for a oneway call where to report that it was written.
type Outgoing = (Frame, Option<oneshot::Sender<Result<(), RpcError>>>);

type Pending = HashMap<i32, oneshot::Sender<Result<Frame, RpcError>>>;

struct Calls {
    pending: Pending,
    /// Set (under the lock) when the connection task ends, so no call waits on a dead one.
    closed: bool,
}

struct Inner {
    config: ClientConfig,
    options: Options,
    seqid: AtomicI32,
    calls: Mutex<Calls>,
    tx: mpsc::Sender<Outgoing>,
}

/// A connection to a Thrift server. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish()
    }
}

fn lock(m: &Mutex<Calls>) -> std::sync::MutexGuard<'_, Calls> {
    // A panic while holding this lock cannot leave the map inconsistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Client {
    /// Connects over TCP.
    pub async fn connect(
        addr: impl ToSocketAddrs,
        config: ClientConfig,
    ) -> Result<Client, RpcError> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        Ok(Client::new(stream, config))
    }

    /// A client over any connected stream. Must be called within a tokio runtime.
    pub fn new<S>(stream: S, config: ClientConfig) -> Client
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let codec = TransportCodec::new(config.transport, config.protocol, config.max_frame);
        let framed = Framed::new(stream, codec);
        let (tx, rx) = mpsc::channel(256);
        let mut options = Options::default().protocol(config.protocol);
        options.limits = config.limits;
        let inner = Arc::new(Inner {
            config,
            options,
            seqid: AtomicI32::new(1),
            calls: Mutex::new(Calls {
                pending: HashMap::new(),
                closed: false,
            }),
            tx,
        });
        tokio::spawn(drive(framed, rx, Arc::downgrade(&inner)));
        Client { inner }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    fn wire_name(&self, method: &str) -> String {
        match &self.inner.config.multiplexed {
            Some(s) => format!("{s}:{method}"),
            None => method.to_string(),
        }
    }

    fn next_seqid(&self) -> i32 {
        // Wraps around; 0 is skipped so that a zeroed header never matches.
        loop {
            let s = self.inner.seqid.fetch_add(1, Ordering::Relaxed);
            if s != 0 {
                return s;
            }
        }
    }

    fn frame(&self, seqid: i32, msg: Vec<u8>) -> Frame {
        Frame {
            header: (self.inner.config.transport == Transport::TTHeader)
                .then(|| Box::new(TTHeader::new(seqid, self.inner.config.protocol))),
            payload: msg.into(),
        }
    }

    /// Sends a message written by `write` (after the envelope `(method, kind, seqid)`) and,
    /// unless it is oneway, waits for the reply with the same seqid. Returns the reply's
    /// message bytes.
    pub async fn call_raw(
        &self,
        method: &str,
        oneway: bool,
        write: impl FnOnce(&mut Vec<u8>) -> crate::Result<()>,
    ) -> Result<Option<Frame>, RpcError> {
        let seqid = self.next_seqid();
        let kind = if oneway {
            TMessageType::Oneway
        } else {
            TMessageType::Call
        };
        let mut msg = Vec::new();
        write_message_begin(
            &mut msg,
            self.inner.config.protocol,
            &self.wire_name(method),
            kind,
            seqid,
        )?;
        write(&mut msg)?;
        let frame = self.frame(seqid, msg);
        if oneway {
            let (ack, done) = oneshot::channel();
            self.inner
                .tx
                .send((frame, Some(ack)))
                .await
                .map_err(|_| RpcError::Closed)?;
            return match self.with_timeout(done).await? {
                Ok(r) => r.map(|()| None),
                Err(_) => Err(RpcError::Closed),
            };
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        {
            let mut calls = lock(&self.inner.calls);
            if calls.closed {
                return Err(RpcError::Closed);
            }
            calls.pending.insert(seqid, reply_tx);
        }
        let r = async {
            self.inner
                .tx
                .send((frame, None))
                .await
                .map_err(|_| RpcError::Closed)?;
            match reply_rx.await {
                Ok(r) => r,
                Err(_) => Err(RpcError::Closed),
            }
        };
        let r = self.with_timeout(r).await;
        if r.is_err() {
            lock(&self.inner.calls).pending.remove(&seqid);
        }
        r?.map(Some)
    }

    async fn with_timeout<T>(&self, f: impl Future<Output = T>) -> Result<T, RpcError> {
        match self.inner.config.timeout {
            Some(t) => tokio::time::timeout(t, f)
                .await
                .map_err(|_| RpcError::Timeout(t)),
            None => Ok(f.await),
        }
    }

    /// Checks a reply's envelope; returns where its struct starts. A `TApplicationException`
    /// reply becomes [`RpcError::Application`].
    fn open_reply(&self, method: &str, frame: &Frame) -> Result<(Protocol, usize), RpcError> {
        let protocol = frame
            .header
            .as_ref()
            .map_or(self.inner.config.protocol, |h| h.protocol);
        let (h, at) = read_message_header(&frame.payload, protocol)?;
        if h.name != method && h.name != self.wire_name(method) {
            return Err(RpcError::Protocol(format!(
                "reply for '{}' to a call of '{method}'",
                h.name
            )));
        }
        match h.kind {
            TMessageType::Reply => Ok((protocol, at)),
            TMessageType::Exception => {
                let codec = Codec::<ApplicationException>::with_options(
                    self.inner.options.protocol(protocol),
                )?;
                Err(RpcError::Application(codec.decode(&frame.payload[at..])?))
            }
            k => Err(RpcError::Protocol(format!("reply of message type {k:?}"))),
        }
    }

    /// Calls `method` with a derived argument struct and decodes the reply as the derived
    /// result struct `R` (field 0 the return value, other ids the declared exceptions).
    pub async fn call<A: Describe, R: Describe>(
        &self,
        method: &str,
        args: &A,
    ) -> Result<R, RpcError> {
        let options = self.inner.options;
        let codec = Codec::<A>::with_options(options)?;
        let frame = self
            .call_raw(method, false, |out| codec.encode_into(args, out))
            .await?
            .ok_or(RpcError::Closed)?;
        let (protocol, at) = self.open_reply(method, &frame)?;
        let codec = Codec::<R>::with_options(options.protocol(protocol))?;
        Ok(codec.decode_bytes(&frame.payload.slice(at..))?)
    }

    /// A handle for calling `method` with argument type `A` and result type `R` whose codecs
    /// are built once (what [`Client::call`] does on every call).
    pub fn method<A: Describe, R: Describe>(&self, method: &str) -> Result<Method<A, R>, RpcError> {
        Ok(Method {
            client: self.clone(),
            name: method.to_string(),
            args: Codec::with_options(self.inner.options)?,
            result: Codec::with_options(self.inner.options)?,
        })
    }

    /// Sends a oneway call; returns once it is written.
    pub async fn oneway<A: Describe>(&self, method: &str, args: &A) -> Result<(), RpcError> {
        let codec = Codec::<A>::with_options(self.inner.options)?;
        self.call_raw(method, true, |out| codec.encode_into(args, out))
            .await
            .map(drop)
    }
}

/// One method of a [`Client`] with its codecs built: see [`Client::method`].
pub struct Method<A, R> {
    client: Client,
    name: String,
    args: Codec<A>,
    result: Codec<R>,
}

impl<A, R> std::fmt::Debug for Method<A, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Method").field("name", &self.name).finish()
    }
}

impl<A: Describe, R: Describe> Method<A, R> {
    pub async fn call(&self, args: &A) -> Result<R, RpcError> {
        let frame = self
            .client
            .call_raw(&self.name, false, |out| self.args.encode_into(args, out))
            .await?
            .ok_or(RpcError::Closed)?;
        let (protocol, at) = self.client.open_reply(&self.name, &frame)?;
        let body = frame.payload.slice(at..);
        if protocol == self.result.options().protocol {
            Ok(self.result.decode_bytes(&body)?)
        } else {
            let codec = Codec::<R>::with_options(self.result.options().protocol(protocol))?;
            Ok(codec.decode_bytes(&body)?)
        }
    }

    /// Sends the call as oneway; returns once it is written.
    pub async fn oneway(&self, args: &A) -> Result<(), RpcError> {
        self.client
            .call_raw(&self.name, true, |out| self.args.encode_into(args, out))
            .await
            .map(drop)
    }
}

/// Runs the connection: writes queued messages, routes replies to their calls by seqid.
async fn drive<S>(
    mut framed: Framed<S, TransportCodec>,
    mut rx: mpsc::Receiver<Outgoing>,
    inner: std::sync::Weak<Inner>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let protocol = match inner.upgrade() {
        Some(i) => i.config.protocol,
        None => return,
    };
    let end: RpcError = loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some((frame, ack)) => {
                    let r = framed.send(frame).await;
                    let failed = r.as_ref().err().map(|e| RpcError::Transport(e.to_string()));
                    if let Some(ack) = ack {
                        let _ = ack.send(r);
                    }
                    if let Some(e) = failed {
                        break e;
                    }
                }
                // Every client handle is gone.
                None => break RpcError::Closed,
            },
            frame = framed.next() => match frame {
                Some(Ok(frame)) => {
                    let p = frame.header.as_ref().map_or(protocol, |h| h.protocol);
                    let seqid = match read_message_header(&frame.payload, p) {
                        Ok((h, _)) => h.seqid,
                        Err(e) => break RpcError::Codec(e),
                    };
                    let Some(inner) = inner.upgrade() else { break RpcError::Closed };
                    let waiter = lock(&inner.calls).pending.remove(&seqid);
                    // No waiter: the call timed out, or the server sent a stray seqid.
                    if let Some(w) = waiter {
                        let _ = w.send(Ok(frame));
                    }
                }
                Some(Err(e)) => break e,
                None => break RpcError::Closed,
            },
        }
    };
    if let Some(inner) = inner.upgrade() {
        let mut calls = lock(&inner.calls);
        calls.closed = true;
        let msg = end.to_string();
        for (_, w) in calls.pending.drain() {
            let e = match &end {
                RpcError::Closed => RpcError::Closed,
                _ => RpcError::Transport(msg.clone()),
            };
            let _ = w.send(Err(e));
        }
    }
    // Tell queued oneway senders.
    rx.close();
    while let Ok((_, ack)) = rx.try_recv() {
        if let Some(ack) = ack {
            let _ = ack.send(Err(RpcError::Closed));
        }
    }
}

/// A client of an IDL service with IDL-only values.
#[derive(Clone, Debug)]
pub struct DynClient {
    client: Client,
    service: Arc<IdlService>,
}

impl DynClient {
    pub fn new(client: Client, service: Arc<IdlService>) -> DynClient {
        DynClient { client, service }
    }

    pub async fn connect(
        addr: impl ToSocketAddrs,
        config: ClientConfig,
        service: Arc<IdlService>,
    ) -> Result<DynClient, RpcError> {
        Ok(DynClient::new(
            Client::connect(addr, config).await?,
            service,
        ))
    }

    pub fn service(&self) -> &Arc<IdlService> {
        &self.service
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// An empty argument struct of `method`, to fill with `set`.
    pub fn args(&self, method: &str) -> Result<DynStruct, RpcError> {
        Ok(self.service.args(method)?)
    }

    /// Calls `method` with its argument struct (from [`DynClient::args`]). Returns the value
    /// (`None` for `void` and oneway methods); a declared exception is
    /// [`RpcError::Exception`], a `TApplicationException` [`RpcError::Application`].
    pub async fn call(&self, method: &str, args: &DynStruct) -> Result<Option<Value>, RpcError> {
        let m = self.service.expect_method(method)?;
        if args.struct_id() != m.args || !Arc::ptr_eq(args.types(), self.service.types()) {
            return Err(RpcError::Config(format!(
                "arguments of {method} must be its {method}_args struct from this service, got {}",
                args.name()
            )));
        }
        let protocol = self.client.inner.config.protocol;
        let limits = self.client.inner.config.limits;
        let reply = self
            .client
            .call_raw(method, m.oneway, |out| {
                args.encode_into(out, protocol, &limits)
            })
            .await?;
        let Some(frame) = reply else {
            return Ok(None);
        };
        let (protocol, at) = self.client.open_reply(method, &frame)?;
        let mut result = DynStruct::new_by_id(self.service.types(), m.result)?;
        let body = frame.payload.slice(at..);
        let used = result.decode_in(&body, Some(&body), protocol, &limits)?;
        if used != body.len() {
            return Err(RpcError::Codec(crate::Error::decode(
                ErrorKind::InvalidData,
                at + used,
                "bytes after the result struct",
            )));
        }
        if let Some(v) = result
            .get_by_id(0)
            .ok()
            .flatten()
            .filter(|_| m.returns.is_some())
        {
            return Ok(Some(v));
        }
        for (id, _) in &m.throws {
            if let Some(Value::Struct(e)) = result.get_by_id(*id)? {
                return Err(RpcError::Exception(e));
            }
        }
        if m.returns.is_none() {
            return Ok(None);
        }
        Err(RpcError::Application(ApplicationException::new(
            dynthrift_core::ApplicationErrorKind::MissingResult,
            format!("{method} failed: unknown result"),
        )))
    }
}
