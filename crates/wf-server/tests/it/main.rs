//! wf-server end to end: a real tonic server on port 0 with the layers `Server::run` uses, called over
//! HTTP/2 with raw gRPC bodies (what a prober can send), read back as a stock tonic client reads them.

mod answers;
mod malformed;

use std::convert::Infallible;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body as _, Frame};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::bytes::{Buf, BufMut, Bytes};
use tokio_util::sync::CancellationToken;
use tonic::body::Body;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::NamedService;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tower::{Service, ServiceExt};
use wf_server::ApiError;
use wf_server::limits::MalformedRequestLayer;

/// A server for one test: health (unary and server-streaming, prost-decoded), a bidirectional
/// echo (decode errors surface in its response trailers), and answers built from [`ApiError`].
pub struct TestServer {
    pub addr: SocketAddr,
    channel: Channel,
    stop: CancellationToken,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(true).await
    }

    /// `layer: false` serves without [`MalformedRequestLayer`], to show what tonic answers alone.
    pub async fn start_with(layer: bool) -> Self {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (_, health) = tonic_health::server::health_reporter();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let incoming = TcpListenerStream::new(listener);
        let shutdown = async move { stopped.cancelled().await };
        if layer {
            // the stack `wf_server::Server::run` builds
            let server = tonic::transport::Server::builder()
                .trace_fn(wf_telemetry::grpc_server_span)
                .layer(MalformedRequestLayer)
                .add_service(health)
                .add_service(Echo)
                .add_service(Answers);
            tokio::spawn(server.serve_with_incoming_shutdown(incoming, shutdown));
        } else {
            let server = tonic::transport::Server::builder().add_service(health).add_service(Echo).add_service(Answers);
            tokio::spawn(server.serve_with_incoming_shutdown(incoming, shutdown));
        }
        let channel = Channel::from_shared(format!("http://{addr}")).expect("url").connect().await.expect("connect");
        TestServer { addr, channel, stop }
    }

    /// POSTs `body` (raw bytes, gRPC framing included) to `path` and reads the whole answer.
    pub async fn call(&self, path: &str, body: Vec<u8>) -> Answer {
        self.try_call(path, body).await.expect("the call completes")
    }

    pub async fn try_call(&self, path: &str, body: Vec<u8>) -> Result<Answer, String> {
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", self.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Body::new(Raw(Some(Bytes::from(body)))))
            .expect("request");
        let mut channel = self.channel.clone();
        let response =
            channel.ready().await.map_err(|e| e.to_string())?.call(request).await.map_err(|e| e.to_string())?;
        let (parts, mut body) = response.into_parts();
        let mut data = Vec::new();
        let mut trailers = None;
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let frame = frame.map_err(|e| e.to_string())?;
            match frame.into_data() {
                Ok(chunk) => data.extend_from_slice(&chunk),
                Err(frame) => trailers = frame.into_trailers().ok(),
            }
        }
        let (status, in_trailers) = match Status::from_header_map(&parts.headers) {
            Some(status) => (status, false),
            None => (
                Status::from_header_map(trailers.as_ref().ok_or("no grpc-status anywhere")?).ok_or("no grpc-status")?,
                true,
            ),
        };
        let messages = count_messages(&data);
        Ok(Answer { code: status.code(), message: status.message().to_owned(), in_trailers, messages, status })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// What came back: the gRPC status, where it was found, and how many data frames preceded it.
#[derive(Debug)]
pub struct Answer {
    pub code: Code,
    pub message: String,
    /// True when the status came in the body's trailers, false for a trailers-only answer.
    pub in_trailers: bool,
    /// gRPC messages in the body before the status.
    pub messages: usize,
    pub status: Status,
}

/// How many gRPC messages `data` holds (5-byte header, then the announced length).
fn count_messages(mut data: &[u8]) -> usize {
    let mut count = 0;
    while data.len() >= 5 {
        let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
        data = &data[(5 + len).min(data.len())..];
        count += 1;
    }
    count
}

/// `payload` framed as one uncompressed gRPC message.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&u32::try_from(payload.len()).expect("length").to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A request body sent as one data frame.
struct Raw(Option<Bytes>);

impl http_body::Body for Raw {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|data| Ok(Frame::data(data))))
    }
}

/// `/wayfinder.test.Echo/Echo`: a bidirectional stream answering each message with itself. Its
/// decode errors reach the client in the response trailers, after the headers went out.
#[derive(Clone)]
struct Echo;

impl NamedService for Echo {
    const NAME: &'static str = "wayfinder.test.Echo";
}

impl Service<http::Request<Body>> for Echo {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec);
            Ok(grpc.streaming(EchoHandler, request).await)
        })
    }
}

struct EchoHandler;

impl tonic::server::StreamingService<Bytes> for EchoHandler {
    type Response = Bytes;
    type ResponseStream = tonic::Streaming<Bytes>;
    type Future = std::future::Ready<Result<tonic::Response<Self::ResponseStream>, Status>>;

    fn call(&mut self, request: tonic::Request<tonic::Streaming<Bytes>>) -> Self::Future {
        std::future::ready(Ok(tonic::Response::new(request.into_inner())))
    }
}

/// `/wayfinder.test.Answers/<Case>`: answers built from [`ApiError`] as every service builds them.
#[derive(Clone)]
struct Answers;

impl NamedService for Answers {
    const NAME: &'static str = "wayfinder.test.Answers";
}

pub const LONG_ID_CHARS: usize = 200_000;

impl Service<http::Request<Body>> for Answers {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let err = match request.uri().path() {
            "/wayfinder.test.Answers/ManyViolations" => ApiError::InvalidArgument(
                (0..5_000)
                    .map(|i| {
                        wf_server::FieldViolation::new(
                            format!("referral.youth.aliases[{i}]"),
                            "must be at most 100 characters, without control characters",
                        )
                    })
                    .collect(),
            ),
            "/wayfinder.test.Answers/LongId" => ApiError::NotFound(format!("referral {}", "r".repeat(LONG_ID_CHARS))),
            _ => ApiError::Unimplemented("no such case".into()),
        };
        std::future::ready(Ok(Status::from(err).into_http()))
    }
}

/// Passes message bytes through untouched.
#[derive(Default, Clone, Copy)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
