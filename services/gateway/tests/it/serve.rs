//! The component serves on its own listener and stops with the shutdown token.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::sync::CancellationToken;
use wf_server::Component as _;

use super::*;

async fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("the gateway listens");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

both_engines!(the_gateway_serves_http_until_shutdown, |engine| async move {
    let h = Harness::start(engine).await;
    let addr = h.gateway.http_addr();
    assert_ne!(addr.port(), 0, "bound at build time on a free port");
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(h.gateway.clone().run(shutdown.clone()));
    let health = get(addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let page = get(addr, "/sign-in").await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.to_lowercase().contains("set-cookie: __host-wf-session="), "{page}");
    assert_eq!(h.gateway.public_origin(), ORIGIN);
    shutdown.cancel();
    running.await.expect("joined").expect("stops cleanly");
});
