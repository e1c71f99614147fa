//! The gate in front of every gRPC service a component mounts: each request is authenticated and
//! checked against the per-method table ([`wf_auth::AuthGate`]) before any handler runs; an
//! admitted caller's [`wf_auth::Principal`] goes into the request extensions, where handlers read it.
//!
//! A refused call is answered at once, but first the gate reads the record it asked for out of
//! the request body, so the refusal on the record names that record and appears in the youth's
//! disclosure report. Which field names the record is read from the method's request message in
//! the service descriptors ([`record_field`]); only a well-formed id of that kind is recorded,
//! never other text a caller wrote. The body is read only for refused calls the rate limit will
//! record, at most [`PEEK_LIMIT`] bytes of its first message, for at most [`PEEK_TIMEOUT`] and for at
//! most [`MAX_PEEKS`] calls at once, of which one caller holds at most [`PEEKS_PER_CALLER`] (so a
//! caller flooding refused calls cannot leave others' refusals without their record; a partner is
//! one caller however many token subjects it has); any other refused call is answered at once and
//! recorded without its record. So is a request that names no record the gate can read: compressed
//! (the server accepts no compression), sent after the timeout, or naming it beyond the first 64 KiB.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::BodyExt;
use prost::Message;
use tokio::sync::Semaphore;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use wf_auth::{AuthGate, Refusal, Refused};
use wf_types::{CaseId, NoteId, OfferId, ReferralId, YouthId};

/// The most of a refused request's first message the gate reads for its record id.
pub const PEEK_LIMIT: usize = 64 * 1024;
/// How long the gate waits for a refused request's body before recording the refusal without it.
pub const PEEK_TIMEOUT: Duration = Duration::from_secs(2);
/// Refused requests whose bodies the gate reads at once, per process; beyond it a refusal is
/// recorded without its record.
pub const MAX_PEEKS: usize = 64;
/// Of those, the most one caller holds: one partner organization (all its token subjects together),
/// else one token subject; all unauthenticated callers together are one caller too.
pub const PEEKS_PER_CALLER: usize = 4;

static PEEKS: LazyLock<Peeks> = LazyLock::new(|| Peeks::new(MAX_PEEKS, PEEKS_PER_CALLER));

/// Who a slot is counted against. A partner organization is one caller however many token subjects
/// it has (users, clients); the kinds never collide, so a subject spelled like an organization id
/// does not share that organization's slots.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Caller {
    Organization(String),
    Subject(String),
    Unauthenticated,
}

impl Caller {
    /// The caller of a refused call: its organization when the token names one, else its subject.
    fn of(refusal: &Refusal) -> Self {
        match (&refusal.organization_id, &refusal.actor) {
            (Some(organization), _) if !organization.is_empty() => Caller::Organization(organization.clone()),
            (_, Some(subject)) => Caller::Subject(subject.clone()),
            _ => Caller::Unauthenticated,
        }
    }
}

/// The slots for reading refused bodies: [`MAX_PEEKS`] in all, [`PEEKS_PER_CALLER`] per caller.
#[derive(Debug)]
struct Peeks {
    slots: Arc<Semaphore>,
    per_caller: usize,
    held: Arc<Mutex<HashMap<Caller, usize>>>,
}

/// One slot, given back when dropped.
#[derive(Debug)]
struct Peek {
    caller: Caller,
    held: Arc<Mutex<HashMap<Caller, usize>>>,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Peeks {
    fn new(slots: usize, per_caller: usize) -> Self {
        Peeks { slots: Arc::new(Semaphore::new(slots)), per_caller, held: Arc::default() }
    }

    /// A slot for `caller`, if one is free for it.
    fn take(&self, caller: Caller) -> Option<Peek> {
        let mut held = self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if held.get(&caller).is_some_and(|count| *count >= self.per_caller) {
            return None;
        }
        // the slot first: a caller refused one leaves no entry behind
        let slot = self.slots.clone().try_acquire_owned().ok()?;
        *held.entry(caller.clone()).or_default() += 1;
        Some(Peek { caller, held: self.held.clone(), _slot: slot })
    }
}

impl Drop for Peek {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = held.get_mut(&self.caller) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.caller);
            }
        }
    }
}

/// Whether a value is a well-formed id of one kind.
type IdCheck = fn(&str) -> bool;

/// The request fields that name a record of a youth, in the order one is chosen when a request
/// names several (the most specific first), each with the check its value must pass.
const RECORD_FIELDS: [(&str, IdCheck); 5] = [
    ("offer_id", OfferId::is_valid),
    ("note_id", NoteId::is_valid),
    ("case_id", CaseId::is_valid),
    ("referral_id", ReferralId::is_valid),
    ("youth_id", YouthId::is_valid),
];

/// The field of a method's request message that names the record the call is about: at top
/// level, or inside a top-level message field (`AddCaseNoteRequest.note.case_id`).
#[derive(Debug, Clone, Copy)]
pub struct RecordField {
    pub name: &'static str,
    /// The number of the top-level message field holding it, when it is nested.
    pub parent: Option<u32>,
    pub number: u32,
    well_formed: IdCheck,
}

/// The record fields among `message`'s own fields, most specific first.
fn own_record_fields(message: &prost_types::DescriptorProto, parent: Option<u32>) -> Vec<RecordField> {
    RECORD_FIELDS
        .iter()
        .filter_map(|(name, well_formed)| {
            message.field.iter().find(|f| f.name() == *name && is_single_string(f)).map(|f| RecordField {
                name,
                parent,
                number: f.number() as u32,
                well_formed: *well_formed,
            })
        })
        .collect()
}

/// The record fields of each method (`/package.Service/Method`) whose request has any: its own,
/// most specific first, then those of its top-level message fields.
fn record_fields() -> &'static HashMap<String, Vec<RecordField>> {
    static FIELDS: OnceLock<HashMap<String, Vec<RecordField>>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let Ok(set) = prost_types::FileDescriptorSet::decode(wf_proto::FILE_DESCRIPTOR_SET) else {
            tracing::error!("the compiled-in descriptor set does not decode; refusals carry no record id");
            return HashMap::new();
        };
        let mut messages = HashMap::new();
        for file in &set.file {
            let package = file.package();
            for message in &file.message_type {
                messages.insert(format!(".{package}.{}", message.name()), message);
            }
        }
        let mut fields = HashMap::new();
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    let Some(input) = messages.get(method.input_type()) else { continue };
                    let mut candidates = own_record_fields(input, None);
                    for holder in input.field.iter().filter(|f| is_single_message(f)) {
                        if let Some(message) = messages.get(holder.type_name()) {
                            candidates.extend(own_record_fields(message, Some(holder.number() as u32)));
                        }
                    }
                    if !candidates.is_empty() {
                        let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                        fields.insert(path, candidates);
                    }
                }
            }
        }
        fields
    })
}

fn is_single_message(field: &prost_types::FieldDescriptorProto) -> bool {
    use prost_types::field_descriptor_proto::{Label, Type};
    field.r#type() == Type::Message && field.label() != Label::Repeated
}

fn is_single_string(field: &prost_types::FieldDescriptorProto) -> bool {
    use prost_types::field_descriptor_proto::{Label, Type};
    field.r#type() == Type::String && field.label() != Label::Repeated
}

/// The fields that may name the record a call of `method` is about, in the order they are tried.
pub fn record_fields_of(method: &str) -> &'static [RecordField] {
    record_fields().get(method).map_or(&[], Vec::as_slice)
}

/// The message of a gRPC frame at the start of `body` (uncompressed only), cut to what `body` holds.
fn framed_message(body: &[u8]) -> Option<&[u8]> {
    let (&compressed, rest) = body.split_first()?;
    if compressed != 0 || rest.len() < 4 {
        return None;
    }
    let length = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    let message = &rest[4..];
    Some(&message[..length.min(message.len())])
}

/// A varint at the start of `bytes`, and the bytes after it.
fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (index, byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[index + 1..]));
        }
    }
    None
}

/// Every value of length-delimited field `number` in the protobuf `message`, in order, as far as the
/// bytes at hand reach (a decoder takes the last of a string and merges the copies of a message).
fn delimited_fields(message: &[u8], number: u32) -> Vec<&[u8]> {
    let mut rest = message;
    let mut found = Vec::new();
    while !rest.is_empty() {
        let Some((key, after)) = varint(rest) else { break };
        let (field, wire_type) = (key >> 3, key & 7);
        rest = match wire_type {
            0 => match varint(after) {
                Some((_, after)) => after,
                None => break,
            },
            1 if after.len() >= 8 => &after[8..],
            5 if after.len() >= 4 => &after[4..],
            2 => {
                let Some((length, after)) = varint(after) else { break };
                let Ok(length) = usize::try_from(length) else { break };
                if after.len() < length {
                    break;
                }
                let (value, after) = after.split_at(length);
                if field == u64::from(number) {
                    found.push(value);
                }
                after
            }
            _ => break,
        };
    }
    found
}

/// The last value of length-delimited field `number` (see [`delimited_fields`]).
fn delimited_field(message: &[u8], number: u32) -> Option<&[u8]> {
    delimited_fields(message, number).pop()
}

/// The record a refused call of `method` asked for, read from `body`; empty when the method names
/// none, the body does not arrive in time, or the value is not a well-formed id of its kind.
async fn requested_record(method: &str, mut body: Body) -> String {
    let fields = record_fields_of(method);
    if fields.is_empty() {
        return String::new();
    }
    let mut bytes = Vec::new();
    let read = async {
        loop {
            // the frame header, then the first message (or as much of it as the gate reads)
            if bytes.len() >= 5 && bytes.len() >= 5 + frame_length(&bytes).min(PEEK_LIMIT) {
                break;
            }
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
                _ => break,
            }
        }
    };
    // A slow or silent caller gets its refusal recorded without the record, never held open.
    let _ = tokio::time::timeout(PEEK_TIMEOUT, read).await;
    let Some(message) = framed_message(&bytes) else { return String::new() };
    fields.iter().find_map(|field| field.value_in(message)).map(str::to_owned).unwrap_or_default()
}

impl RecordField {
    /// This field's value in `message`, when it is a well-formed id of its kind.
    fn value_in(self, message: &[u8]) -> Option<&str> {
        // A message field sent in several pieces is one message to the decoder: the last value of
        // the id in any of them is the one the handler would have seen.
        let holders = match self.parent {
            Some(parent) => delimited_fields(message, parent),
            None => vec![message],
        };
        let bytes = holders.iter().rev().find_map(|holder| delimited_field(holder, self.number))?;
        let value = std::str::from_utf8(bytes).ok()?;
        (self.well_formed)(value).then_some(value)
    }
}

/// The message length a gRPC frame header at the start of `bytes` announces (0 before the header).
fn frame_length(bytes: &[u8]) -> usize {
    match bytes.get(1..5) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]) as usize,
        _ => 0,
    }
}

/// One gRPC service behind the gate (see the module docs).
#[derive(Clone)]
pub struct Guarded<S> {
    gate: Arc<AuthGate>,
    inner: S,
}

impl<S: NamedService> NamedService for Guarded<S> {
    const NAME: &'static str = S::NAME;
}

type Answer = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

impl<S> tower::Service<http::Request<Body>> for Guarded<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        match self.gate.admit(request.headers(), request.uri().path()) {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                // the service made ready is the one that serves; a fresh clone waits for the next call
                let ready = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, ready);
                Box::pin(async move { inner.call(request).await })
            }
            Err(Refused { mut refusal, status }) => {
                let gate = self.gate.clone();
                let method = request.uri().path().to_owned();
                // Read the body only for a refusal that will be recorded (not one the rate limit
                // leaves out), and for at most MAX_PEEKS calls at once, PEEKS_PER_CALLER of one
                // caller (a partner's organization, else the subject): a flood of refused calls is
                // answered at once, its entries without the record.
                let peek = if gate.would_record(&refusal) { PEEKS.take(Caller::of(&refusal)) } else { None };
                Box::pin(async move {
                    if let Some(_permit) = peek {
                        refusal.record_id = requested_record(&method, request.into_body()).await;
                    }
                    gate.record(refusal);
                    Ok(status.into_http())
                })
            }
        }
    }
}

/// Where a [`crate::Component`] mounts its gRPC services: each one added sits behind the gate,
/// reporting refusals to the component's recorder. A service cannot be mounted without it.
pub struct Mount<'a> {
    routes: &'a mut RoutesBuilder,
    gate: Arc<AuthGate>,
}

impl<'a> Mount<'a> {
    pub(crate) fn new(routes: &'a mut RoutesBuilder, gate: AuthGate) -> Self {
        Mount { routes, gate: Arc::new(gate) }
    }

    /// Mounts `service` (a tonic-generated `…Server`) behind the gate.
    pub fn add<S>(&mut self, service: S) -> &mut Self
    where
        S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.routes.add_service(Guarded { gate: self.gate.clone(), inner: service });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(message: &[u8]) -> Vec<u8> {
        let mut body = vec![0];
        body.extend_from_slice(&(message.len() as u32).to_be_bytes());
        body.extend_from_slice(message);
        body
    }

    /// Field `number` as a length-delimited value.
    fn string(number: u32, value: &str) -> Vec<u8> {
        let mut bytes = vec![((number << 3) | 2) as u8, value.len() as u8];
        bytes.extend_from_slice(value.as_bytes());
        bytes
    }

    #[test]
    fn every_method_naming_a_record_has_its_field() {
        let named = |method: &str| -> Vec<(&str, Option<u32>)> {
            record_fields_of(method).iter().map(|f| (f.name, f.parent)).collect()
        };
        assert_eq!(named("/wayfinder.intake.v1.IntakeService/GetReferral"), [("referral_id", None)]);
        assert_eq!(named("/wayfinder.routing.v1.RoutingService/AcceptOffer"), [("offer_id", None)]);
        assert_eq!(named("/wayfinder.cases.v1.CaseService/ListCaseNotes"), [("case_id", None)]);
        // a new note has no id yet: its case is tried next
        assert_eq!(named("/wayfinder.cases.v1.CaseService/AddCaseNote"), [("note_id", Some(1)), ("case_id", Some(1))]);
        assert!(named("/wayfinder.intake.v1.IntakeService/SubmitReferral").is_empty());
        let known = wf_auth::rpc::RPCS.iter().filter(|rule| !record_fields_of(rule.method).is_empty()).count();
        assert_eq!(known, 42, "methods whose request names a referral, offer, case, note or youth");
    }

    #[test]
    fn the_string_field_is_found_among_others_of_every_wire_type() {
        let mut message = vec![0x10, 0x96, 0x01]; // field 2, varint 150
        message.extend([0x19, 1, 2, 3, 4, 5, 6, 7, 8]); // field 3, fixed64
        message.extend([0x25, 1, 2, 3, 4]); // field 4, fixed32
        message.extend(string(5, "ignored"));
        message.extend(string(1, "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d"));
        assert_eq!(delimited_field(&message, 1), Some(&b"ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d"[..]));
        assert_eq!(delimited_field(&message, 5), Some(&b"ignored"[..]));
        assert_eq!(delimited_field(&message, 6), None);
        // the last value wins, as a decoder takes it
        message.extend(string(1, "second"));
        assert_eq!(delimited_field(&message, 1), Some(&b"second"[..]));
    }

    #[test]
    fn a_truncated_or_broken_message_yields_what_came_before_the_break() {
        let mut message = string(1, "case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d");
        message.extend([0x12, 0x7f, b'x']); // field 2 announces 127 bytes, holds one
        assert_eq!(delimited_field(&message, 1), Some(&b"case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d"[..]));
        assert_eq!(delimited_field(&[0xff, 0xff], 1), None);
        assert_eq!(delimited_field(&[0x0b], 1), None); // a group: not read
    }

    #[test]
    fn only_an_uncompressed_frame_is_read() {
        let body = framed(&string(1, "x"));
        assert_eq!(framed_message(&body), Some(&body[5..]));
        assert_eq!(framed_message(&body[..7]), Some(&body[5..7]));
        let mut compressed = body.clone();
        compressed[0] = 1;
        assert_eq!(framed_message(&compressed), None);
        assert_eq!(framed_message(&body[..3]), None);
        assert_eq!(frame_length(&body), 3);
    }

    #[tokio::test]
    async fn a_refused_request_yields_its_record_only_when_it_is_a_well_formed_id() {
        const GET_CASE: &str = "/wayfinder.cases.v1.CaseService/GetCase";
        let id = "case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d";
        let body = |message: Vec<u8>| Body::new(http_body_util::Full::new(tokio_util::bytes::Bytes::from(message)));
        assert_eq!(requested_record(GET_CASE, body(framed(&string(1, id)))).await, id);
        // free text, another kind of id, a method naming no record, no body at all: nothing recorded
        assert_eq!(requested_record(GET_CASE, body(framed(&string(1, "Jane Roe, 12 Elm St")))).await, "");
        assert_eq!(
            requested_record(GET_CASE, body(framed(&string(1, "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d")))).await,
            ""
        );
        let submit = "/wayfinder.intake.v1.IntakeService/SubmitReferral";
        assert_eq!(requested_record(submit, body(framed(&string(1, id)))).await, "");
        assert_eq!(requested_record(GET_CASE, Body::empty()).await, "");
        assert_eq!(requested_record(GET_CASE, body(framed(&[0x0a, 2, 0xff, 0xfe]))).await, ""); // not UTF-8
        // a record named inside the request's message field: AddCaseNoteRequest.note.case_id
        let add_note = "/wayfinder.cases.v1.CaseService/AddCaseNote";
        let field = record_fields_of(add_note)[1];
        let mut note = Vec::new();
        note.extend(string(field.number + 1, "text of the note"));
        note.extend(string(field.number, id));
        let mut request = vec![((field.parent.unwrap() << 3) | 2) as u8, note.len() as u8];
        request.extend(note);
        assert_eq!(requested_record(add_note, body(framed(&request))).await, id);
        // the note sent in two pieces (the decoder merges them): the id in the first piece counts
        let mut pieces = vec![((field.parent.unwrap() << 3) | 2) as u8];
        let first = string(field.number, id);
        pieces.push(first.len() as u8);
        pieces.extend(first);
        let second = string(field.number + 1, "text of the note");
        pieces.push(((field.parent.unwrap() << 3) | 2) as u8);
        pieces.push(second.len() as u8);
        pieces.extend(second);
        assert_eq!(requested_record(add_note, body(framed(&pieces))).await, id);
    }

    fn subject(name: &str) -> Caller {
        Caller::Subject(name.to_owned())
    }

    #[test]
    fn one_caller_cannot_take_the_slots_of_the_others() {
        let peeks = Peeks::new(6, 2);
        let flood: Vec<Peek> = (0..5).filter_map(|_| peeks.take(subject("usr-a"))).collect();
        assert_eq!(flood.len(), 2, "one caller holds at most its share");
        let anonymous: Vec<Peek> = (0..5).filter_map(|_| peeks.take(Caller::Unauthenticated)).collect();
        assert_eq!(anonymous.len(), 2, "unauthenticated callers share one share");
        assert!(peeks.take(subject("usr-b")).is_some());
        let _rest = (peeks.take(subject("usr-c")), peeks.take(subject("usr-c")));
        assert!(peeks.take(subject("usr-d")).is_none(), "never more than all the slots");
        assert_eq!(peeks.held.lock().unwrap().get(&subject("usr-d")), None, "a refused caller leaves no entry");
        drop(flood);
        assert!(peeks.take(subject("usr-a")).is_some(), "a slot given back is free again");
        assert_eq!(peeks.held.lock().unwrap().get(&subject("usr-b")), None, "a finished caller is forgotten");
    }

    /// A partner organization with many subjects (users, clients) is one caller.
    #[test]
    fn two_subjects_of_one_organization_share_its_slots() {
        let refused = |subject: Option<&str>, organization: Option<&str>| Refusal {
            actor: subject.map(str::to_owned),
            role: None,
            organization_id: organization.map(str::to_owned),
            operation: "/wayfinder.routing.v1.RoutingService/AcceptOffer".into(),
            record_id: String::new(),
            reason: wf_auth::RefusalReason::RoleNotAllowed,
        };
        let org = "org_e74680f37b1a4624be1014d73e963b4b";
        let peeks = Peeks::new(6, 2);
        let first = peeks.take(Caller::of(&refused(Some("svc-partner-1"), Some(org))));
        let second = peeks.take(Caller::of(&refused(Some("svc-partner-2"), Some(org))));
        assert!(first.is_some() && second.is_some());
        assert!(
            peeks.take(Caller::of(&refused(Some("svc-partner-3"), Some(org)))).is_none(),
            "a third subject of the organization finds its share taken"
        );
        assert_eq!(peeks.held.lock().unwrap().len(), 1, "one entry, the organization's");
        // A subject spelled like the organization id is not the organization; staff are their subject.
        assert!(peeks.take(Caller::of(&refused(Some(org), None))).is_some());
        assert_eq!(Caller::of(&refused(Some("usr_staff"), None)), subject("usr_staff"));
        assert_eq!(Caller::of(&refused(Some("usr_staff"), Some(""))), subject("usr_staff"));
        assert_eq!(Caller::of(&refused(None, None)), Caller::Unauthenticated);
        drop(first);
        assert!(peeks.take(Caller::of(&refused(Some("svc-partner-3"), Some(org)))).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_never_sends_its_body_is_not_waited_for_beyond_the_timeout() {
        let (_sender, never) =
            tokio::sync::mpsc::channel::<Result<http_body::Frame<tokio_util::bytes::Bytes>, tonic::Status>>(1);
        let body = Body::new(http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(never)));
        let started = tokio::time::Instant::now();
        assert_eq!(requested_record("/wayfinder.cases.v1.CaseService/GetCase", body).await, "");
        assert!(started.elapsed() >= PEEK_TIMEOUT);
    }
}
