//! Apache Thrift's cross-language `ThriftTest` client: calls every method of a ThriftTest
//! server and checks every answer.
//!
//! `cargo run --features tokio --example thrift_test_client -- [--host 127.0.0.1]
//!  [--port 9090] [--protocol binary|compact] [--transport buffered|framed|ttheader]`

#[path = "thrift_test/mod.rs"]
mod thrift_test;

use std::process::ExitCode;

use dynthrift::Protocol;
use dynthrift::rpc::{ClientConfig, DynClient, Transport};

struct Args {
    host: String,
    port: u16,
    protocol: Protocol,
    transport: Transport,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        host: "127.0.0.1".into(),
        port: 9090,
        protocol: Protocol::Binary,
        transport: Transport::Buffered,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--host" => a.host = value,
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
            eprintln!("thrift_test_client: {e}");
            return ExitCode::from(2);
        }
    };
    let config = ClientConfig::default()
        .protocol(args.protocol)
        .transport(args.transport);
    let client = match DynClient::connect(
        (args.host.as_str(), args.port),
        config,
        thrift_test::load(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("thrift_test_client: {e}");
            return ExitCode::FAILURE;
        }
    };
    match thrift_test::run_client(&client).await {
        Ok(n) => {
            println!("all {n} checks passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("thrift_test_client: failed checks:\n{e}");
            ExitCode::FAILURE
        }
    }
}
