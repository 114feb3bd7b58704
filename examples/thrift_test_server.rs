//! Apache Thrift's cross-language `ThriftTest` server, served from the IDL at run time.
//!
//! `cargo run --features tokio --example thrift_test_server -- [--port 9090]
//!  [--protocol binary|compact] [--transport buffered|framed|ttheader]`
//!
//! Prints `listening on ADDR` once it accepts connections; runs until killed.

#[path = "thrift_test/mod.rs"]
mod thrift_test;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use dynthrift::Protocol;
use dynthrift::rpc::{Server, Transport};

struct Args {
    port: u16,
    protocol: Protocol,
    transport: Transport,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        port: 9090,
        protocol: Protocol::Binary,
        transport: Transport::Buffered,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--port" => a.port = value.parse().map_err(|_| format!("bad port {value}"))?,
            "--protocol" => {
                a.protocol = thrift_test::parse_protocol(&value)
                    .ok_or(format!("unknown protocol {value}"))?
            }
            "--transport" => {
                a.transport = thrift_test::parse_transport(&value)
                    .ok_or(format!("unknown transport {value}"))?
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("thrift_test_server: {e}");
            return ExitCode::from(2);
        }
    };
    let svc = thrift_test::load();
    let router = thrift_test::router(&svc, Arc::new(AtomicUsize::new(0)));
    let server = Server::new(router)
        .protocol(args.protocol)
        .transport(args.transport);
    match server.bind(("127.0.0.1", args.port)).await {
        Ok(handle) => {
            println!("listening on {}", handle.local_addr());
            handle.wait().await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("thrift_test_server: {e}");
            ExitCode::FAILURE
        }
    }
}
