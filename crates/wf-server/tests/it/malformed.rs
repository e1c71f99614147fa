//! Finding 10: a request tonic cannot decode is the caller's mistake (INVALID_ARGUMENT), an oversized
//! one is RESOURCE_EXHAUSTED naming the limit; never INTERNAL, and never tonic's internals.

use tonic::Code;
use wf_server::limits::{BAD_FRAMING, NO_MESSAGE, NOT_A_MESSAGE};

use crate::{TestServer, frame};

const CHECK: &str = "/grpc.health.v1.Health/Check";
const WATCH: &str = "/grpc.health.v1.Health/Watch";
const ECHO: &str = "/wayfinder.test.Echo/Echo";
/// tonic's default decoding limit.
const LIMIT: usize = 4 * 1024 * 1024;
const TOO_LARGE: &str = "the request message is larger than the limit of 4194304 bytes";

/// `HealthCheckRequest { service }` with raw bytes for the string.
fn service_field(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x0a, u8::try_from(bytes.len()).expect("short")];
    out.extend_from_slice(bytes);
    out
}

/// An unknown field 2 made of `depth` nested groups: every message type must skip it, and prost
/// stops at its recursion limit of 100.
fn nested_groups(depth: usize) -> Vec<u8> {
    let mut out = vec![0x13; depth];
    out.extend(std::iter::repeat_n(0x14, depth));
    out
}

/// A frame header announcing `len` bytes, and only `sent` of them.
fn cut_frame(len: u32, sent: &[u8]) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(sent);
    out
}

#[tokio::test]
async fn a_string_field_with_bad_utf8_is_invalid_argument() {
    let server = TestServer::start().await;
    for path in [CHECK, WATCH] {
        let answer = server.call(path, frame(&service_field(&[0xff, 0xfe, 0x41]))).await;
        assert_eq!((answer.code, answer.message.as_str()), (Code::InvalidArgument, NOT_A_MESSAGE), "{path}");
        assert!(!answer.in_trailers, "a unary refusal is trailers-only");
        assert!(answer.status.details().is_empty());
    }
}

#[tokio::test]
async fn a_truncated_message_is_invalid_argument() {
    let server = TestServer::start().await;
    // a string field announcing 16 bytes with 2 behind it, in a complete frame
    let answer = server.call(CHECK, frame(&[0x0a, 0x10, b'a', b'b'])).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::InvalidArgument, NOT_A_MESSAGE));
    // a frame announcing 10 bytes, the body ending after 3
    let answer = server.call(CHECK, cut_frame(10, &service_field(b"a"))).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::InvalidArgument, NOT_A_MESSAGE));
    // a body too short to hold even a frame header
    let answer = server.call(CHECK, vec![0, 0, 0]).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::InvalidArgument, NOT_A_MESSAGE));
}

#[tokio::test]
async fn a_message_past_the_recursion_limit_is_invalid_argument() {
    let server = TestServer::start().await;
    let answer = server.call(CHECK, frame(&nested_groups(150))).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::InvalidArgument, NOT_A_MESSAGE));
    // within the limit the unknown field is skipped and the call answered
    assert_eq!(server.call(CHECK, frame(&nested_groups(50))).await.code, Code::Ok);
}

#[tokio::test]
async fn no_message_or_bad_framing_is_invalid_argument() {
    let server = TestServer::start().await;
    let answer = server.call(CHECK, Vec::new()).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::InvalidArgument, NO_MESSAGE));
    for flag in [1, 7] {
        let mut body = frame(&service_field(b"a"));
        body[0] = flag;
        let answer = server.call(CHECK, body).await;
        assert_eq!((answer.code, answer.message.as_str()), (Code::InvalidArgument, BAD_FRAMING), "flag {flag}");
    }
}

#[tokio::test]
async fn an_oversized_message_is_resource_exhausted_naming_the_limit() {
    let server = TestServer::start().await;
    // the announced length alone is refused, before the bytes arrive
    let answer = server.call(CHECK, cut_frame(u32::try_from(LIMIT + 1).unwrap(), b"")).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::ResourceExhausted, TOO_LARGE));
    assert!(!answer.in_trailers);
    let answer = server.call(CHECK, cut_frame(u32::MAX, b"")).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::ResourceExhausted, TOO_LARGE));
    // and so is a whole 5 MiB message sent in full
    let mut payload = vec![0x0a];
    let mut len = 5 * 1024 * 1024;
    while len >= 0x80 {
        payload.push(u8::try_from(len & 0x7f).unwrap() | 0x80);
        len >>= 7;
    }
    payload.push(u8::try_from(len).unwrap());
    payload.resize(payload.len() + 5 * 1024 * 1024, b'a');
    let answer = server.call(CHECK, frame(&payload)).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::ResourceExhausted, TOO_LARGE));
}

#[tokio::test]
async fn a_streaming_handler_s_decode_errors_are_rewritten_in_the_trailers() {
    let server = TestServer::start().await;
    // one good message is echoed, then the stream is cut mid-frame
    let mut body = frame(b"hello");
    body.extend(cut_frame(10, b"abc"));
    let answer = server.call(ECHO, body).await;
    assert!(answer.in_trailers, "the status follows the headers and the echoed message");
    assert_eq!(answer.messages, 1);
    assert_eq!((answer.code, answer.message.as_str()), (Code::InvalidArgument, NOT_A_MESSAGE));

    let answer = server.call(ECHO, cut_frame(u32::try_from(LIMIT + 1).unwrap(), b"")).await;
    assert!(answer.in_trailers);
    assert_eq!((answer.code, answer.message.as_str()), (Code::ResourceExhausted, TOO_LARGE));
}

#[tokio::test]
async fn good_requests_pass_untouched() {
    let server = TestServer::start().await;
    let answer = server.call(CHECK, frame(&[])).await;
    assert_eq!(answer.code, Code::Ok);
    assert_eq!(answer.messages, 1);
    let answer = server.call(CHECK, frame(&service_field(b"wayfinder.nothing.v1.Nothing"))).await;
    assert_eq!(answer.code, Code::NotFound, "health's own answer for an unknown service stays");
    let mut body = frame(b"one");
    body.extend(frame(b"two"));
    let answer = server.call(ECHO, body).await;
    assert_eq!((answer.code, answer.messages, answer.in_trailers), (Code::Ok, 2, true));
}

/// What tonic 0.14 answers alone: the codes and messages the layer looks for. If a tonic upgrade
/// changes them, this fails first, and the layer's patterns need the new wording.
#[tokio::test]
async fn without_the_layer_tonic_answers_internal_and_out_of_range() {
    let server = TestServer::start_with(false).await;
    let answer = server.call(CHECK, frame(&service_field(&[0xff, 0xfe]))).await;
    assert_eq!(answer.code, Code::Internal);
    assert!(answer.message.starts_with("failed to decode Protobuf message: "), "{}", answer.message);
    assert!(answer.message.contains("not UTF-8"), "{}", answer.message);
    let answer = server.call(CHECK, frame(&nested_groups(150))).await;
    assert_eq!(
        (answer.code, answer.message.as_str()),
        (Code::Internal, "failed to decode Protobuf message: recursion limit reached")
    );
    let answer = server.call(CHECK, cut_frame(10, b"abc")).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::Internal, "Unexpected EOF decoding stream."));
    let answer = server.call(CHECK, Vec::new()).await;
    assert_eq!((answer.code, answer.message.as_str()), (Code::Internal, "Missing request message."));
    let answer = server.call(CHECK, cut_frame(u32::try_from(LIMIT + 1).unwrap(), b"")).await;
    assert_eq!(answer.code, Code::OutOfRange);
    assert_eq!(
        answer.message,
        format!("Error, decoded message length too large: found {} bytes, the limit is: {LIMIT} bytes", LIMIT + 1)
    );
    let answer = server.call(ECHO, cut_frame(10, b"abc")).await;
    assert!(answer.in_trailers);
    assert_eq!((answer.code, answer.message.as_str()), (Code::Internal, "Unexpected EOF decoding stream."));
}
