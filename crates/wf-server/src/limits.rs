//! What a caller is told when tonic itself refuses a request before any handler sees it.
//!
//! tonic 0.14 answers a request body it cannot decode with codes that blame the server or say
//! nothing useful, and with messages that describe its internals:
//!
//! | the request                                  | tonic answers                                                      |
//! |----------------------------------------------|--------------------------------------------------------------------|
//! | bad UTF-8, wrong wire type, recursion limit… | `INTERNAL` "failed to decode Protobuf message: …" (tonic-prost)    |
//! | a frame cut short                            | `INTERNAL` "Unexpected EOF decoding stream."                       |
//! | no message at all in a unary call            | `INTERNAL` "Missing request message."                              |
//! | a bad compressed-flag byte                   | `INTERNAL` "protocol error: received message with …"               |
//! | a message over the decoding limit            | `OUT_OF_RANGE` "Error, decoded message length too large: …"        |
//! | a compressed message inflating over it       | `RESOURCE_EXHAUSTED` "Error decompressing: size limit, of N bytes…" |
//!
//! [`MalformedRequestLayer`] rewrites these into `INVALID_ARGUMENT` ("the request is not a valid
//! protobuf message of this method's type") and `RESOURCE_EXHAUSTED` naming the limit in bytes.
//!
//! Where the status travels: a unary or server-streaming call is decoded before its handler runs,
//! so the refusal is a trailers-only response (`grpc-status` in the response *headers*). A client- or
//! bidirectional-streaming handler (server reflection here) meets the error while reading its
//! stream, after the response headers have gone, so the status arrives in the *trailers* of the
//! body. The layer rewrites both.
//!
//! Why a layer and not a wrapping codec: a codec's decoder only sees the bytes of one complete
//! message, so it could fix the protobuf errors but not the framing ones (a truncated frame, the size
//! limit), which tonic's `Streaming` raises outside any codec; and the codec is chosen in wf-proto's
//! generated code, once per service. The layer sees every answer of every service mounted on the
//! server. It recognises tonic's own errors by code and message text; the tests pin tonic's wording,
//! so an upgrade that changes it fails them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use tonic::{Code, Status};

/// What a caller is told when a request body is not a message of the method's request type.
pub const NOT_A_MESSAGE: &str = "the request is not a valid protobuf message of this method's type";
/// What a caller is told when a unary call carried no message.
pub const NO_MESSAGE: &str = "the request carries no message; a unary call sends exactly one";
/// What a caller is told when the gRPC framing itself is wrong.
pub const BAD_FRAMING: &str =
    "the request is not framed as gRPC messages (the compressed-flag byte must be 0, or 1 with a grpc-encoding)";
/// What a caller is told when a compressed message cannot be inflated.
pub const BAD_COMPRESSION: &str = "the request's compressed message could not be decompressed";

const GRPC_STATUS: &str = "grpc-status";
const GRPC_MESSAGE: &str = "grpc-message";
const GRPC_STATUS_DETAILS: &str = "grpc-status-details-bin";

/// Rewrites tonic's own refusals of undecodable or oversized requests (see the module docs). Plug
/// it into `tonic::transport::Server::builder().layer(MalformedRequestLayer)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MalformedRequestLayer;

impl<S> tower::Layer<S> for MalformedRequestLayer {
    type Service = MalformedRequestService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MalformedRequestService { inner }
    }
}

/// [`MalformedRequestLayer`]'s service.
#[derive(Debug, Clone)]
pub struct MalformedRequestService<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for MalformedRequestService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<RewriteBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let response = self.inner.call(request);
        Box::pin(async move { Ok(rewrite_response(response.await?)) })
    }
}

fn rewrite_response<B>(mut response: http::Response<B>) -> http::Response<RewriteBody<B>> {
    // A trailers-only answer carries its status in the headers and has no trailers to look at.
    let trailers_only = response.headers().contains_key(GRPC_STATUS);
    if let Some(better) = rewrite_status(response.headers_mut()) {
        // tonic also leaves the status in the response extensions; keep them in step
        response.extensions_mut().insert(better);
    }
    response.map(|body| RewriteBody { inner: Box::pin(body), trailers: !trailers_only })
}

/// Replaces a tonic decode refusal in `headers` (response headers or trailers) by the answer the
/// caller should get, and returns that answer.
fn rewrite_status(headers: &mut HeaderMap) -> Option<Status> {
    let code = Code::from_bytes(headers.get(GRPC_STATUS)?.as_bytes());
    if !matches!(code, Code::Internal | Code::OutOfRange | Code::ResourceExhausted) {
        return None;
    }
    let message = headers.get(GRPC_MESSAGE).map(|value| percent_decode(value.as_bytes())).unwrap_or_default();
    let (better, kind) = answer_for(code, &message)?;
    tracing::debug!(refusal = kind, original_code = ?code, "malformed request refused");
    headers.remove(GRPC_STATUS);
    headers.remove(GRPC_MESSAGE);
    headers.remove(GRPC_STATUS_DETAILS);
    better.add_header(headers).ok()?;
    Some(better)
}

/// The answer to give instead of tonic's `code` + `message`, and a short name of the case for the
/// log; `None` when this is not one of tonic's decode refusals.
fn answer_for(code: Code, message: &str) -> Option<(Status, &'static str)> {
    match code {
        Code::Internal if message.starts_with("failed to decode Protobuf message") => {
            Some((Status::invalid_argument(NOT_A_MESSAGE), "not_a_message"))
        }
        Code::Internal if message == "Unexpected EOF decoding stream." => {
            Some((Status::invalid_argument(NOT_A_MESSAGE), "truncated"))
        }
        Code::Internal if message == "Missing request message." => {
            Some((Status::invalid_argument(NO_MESSAGE), "no_message"))
        }
        Code::Internal if message.starts_with("protocol error: received message with") => {
            Some((Status::invalid_argument(BAD_FRAMING), "bad_framing"))
        }
        Code::Internal if message.starts_with("Error decompressing:") => {
            Some((Status::invalid_argument(BAD_COMPRESSION), "bad_compression"))
        }
        // "Error, decoded message length too large: found N bytes, the limit is: L bytes"
        Code::OutOfRange if message.starts_with("Error, decoded message length too large") => {
            Some((too_large(number_after(message, "the limit is: ")), "too_large"))
        }
        // "Error decompressing: size limit, of L bytes, exceeded while decompressing message"
        Code::ResourceExhausted if message.starts_with("Error decompressing: size limit") => {
            Some((too_large(number_after(message, "size limit, of ")), "too_large_decompressed"))
        }
        _ => None,
    }
}

fn too_large(limit: Option<u64>) -> Status {
    match limit {
        Some(limit) => {
            Status::resource_exhausted(format!("the request message is larger than the limit of {limit} bytes"))
        }
        None => Status::resource_exhausted("the request message is larger than this server accepts"),
    }
}

/// The decimal number right after `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<u64> {
    let (_, rest) = text.split_once(marker)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `grpc-message` as text (gRPC percent-encodes it); bytes that do not decode are kept as they are.
fn percent_decode(value: &[u8]) -> String {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (value[i], value.get(i + 1).copied().and_then(hex), value.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response body whose trailers get the same rewriting as trailers-only headers (a streaming
/// handler's decode error arrives there).
pub struct RewriteBody<B> {
    inner: Pin<Box<B>>,
    /// False for a trailers-only response, whose status was in the headers.
    trailers: bool,
}

impl<B> std::fmt::Debug for RewriteBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RewriteBody").field("trailers", &self.trailers).finish_non_exhaustive()
    }
}

impl<B> Body for RewriteBody<B>
where
    B: Body,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let rewrite = self.trailers;
        let mut frame = ready!(self.inner.as_mut().poll_frame(cx));
        if rewrite
            && let Some(Ok(frame)) = &mut frame
            && let Some(trailers) = frame.trailers_mut()
        {
            rewrite_status(trailers);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(code: Code, message: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/grpc".parse().unwrap());
        Status::new(code, message).add_header(&mut headers).unwrap();
        headers
    }

    fn rewritten(code: Code, message: &str) -> Option<(Code, String)> {
        let mut headers = headers(code, message);
        let status = rewrite_status(&mut headers)?;
        assert_eq!(headers.get("content-type").unwrap(), "application/grpc");
        assert_eq!(Code::from_bytes(headers.get(GRPC_STATUS).unwrap().as_bytes()), status.code());
        assert_eq!(percent_decode(headers.get(GRPC_MESSAGE).unwrap().as_bytes()), status.message());
        Some((status.code(), status.message().to_owned()))
    }

    #[test]
    fn tonic_decode_refusals_become_invalid_argument() {
        for message in [
            "failed to decode Protobuf message: HealthCheckRequest.service: invalid string value: data is not UTF-8 encoded",
            "failed to decode Protobuf message: recursion limit reached",
            "failed to decode Protobuf message: invalid key value: 123456",
            "Unexpected EOF decoding stream.",
        ] {
            assert_eq!(rewritten(Code::Internal, message), Some((Code::InvalidArgument, NOT_A_MESSAGE.into())));
        }
        assert_eq!(
            rewritten(Code::Internal, "Missing request message."),
            Some((Code::InvalidArgument, NO_MESSAGE.into()))
        );
        assert_eq!(
            rewritten(
                Code::Internal,
                "protocol error: received message with invalid compression flag: 7 (valid flags are 0 and 1), while sending request"
            ),
            Some((Code::InvalidArgument, BAD_FRAMING.into()))
        );
    }

    #[test]
    fn too_large_messages_become_resource_exhausted_naming_the_limit() {
        assert_eq!(
            rewritten(
                Code::OutOfRange,
                "Error, decoded message length too large: found 5242880 bytes, the limit is: 4194304 bytes"
            ),
            Some((Code::ResourceExhausted, "the request message is larger than the limit of 4194304 bytes".into()))
        );
        assert_eq!(
            rewritten(
                Code::ResourceExhausted,
                "Error decompressing: size limit, of 1024 bytes, exceeded while decompressing message"
            ),
            Some((Code::ResourceExhausted, "the request message is larger than the limit of 1024 bytes".into()))
        );
    }

    #[test]
    fn other_answers_are_left_alone() {
        for (code, message) in [
            (Code::Internal, "internal error"),
            (Code::InvalidArgument, "referral.site: must be set"),
            (Code::NotFound, "failed to decode Protobuf message"),
            (Code::OutOfRange, "page 9 is past the end"),
            (Code::Ok, ""),
        ] {
            let mut map = headers(code, message);
            let before = map.clone();
            assert!(rewrite_status(&mut map).is_none(), "{message}");
            assert_eq!(map, before);
        }
        assert!(rewrite_status(&mut HeaderMap::new()).is_none());
    }

    #[test]
    fn details_of_the_original_status_are_dropped() {
        let mut map = HeaderMap::new();
        Status::with_details(Code::Internal, "Unexpected EOF decoding stream.", "x".into())
            .add_header(&mut map)
            .unwrap();
        assert!(map.contains_key(GRPC_STATUS_DETAILS));
        rewrite_status(&mut map).unwrap();
        assert!(!map.contains_key(GRPC_STATUS_DETAILS));
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode(b"a%20b%2"), "a b%2");
        assert_eq!(percent_decode(b"%zz%41"), "%zzA");
    }
}
