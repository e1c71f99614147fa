//! The authorization matrix: every RPC of every service (read from the compiled service
//! descriptors) × every role × {the caller's own record, another organization's record, an unknown
//! id}, called over the wire against all five services in one server.
//!
//! The expected answer comes from the per-RPC table (`wf_auth::rpc::RPCS`), not from the handlers:
//! - a role none of the method's operations allows is `PERMISSION_DENIED`, whatever the record;
//! - an allowed role is never `PERMISSION_DENIED`;
//! - for the roles that are scoped to their own records (partner, hotline), another organization's
//!   record answers exactly as an unknown id does (same code, same message once the id is masked):
//!   no existence leaks;
//! - the caller's own record is reached (neither denied nor hidden), except where the method needs
//!   more than the record's existence (listed in `NEEDS_MORE_THAN_THE_RECORD`).
//!
//! A method in the descriptors without a row in the table fails the test (and the server refuses it).

use std::collections::BTreeMap;
use std::time::Duration;

use prost::Message;
use prost::bytes::{Buf, BufMut};
use prost_types::field_descriptor_proto::{Label, Type};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Code, Status};
use wf_auth::{Role, TokenKind};
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;
use wf_testkit::{AuthedChannel, Engine, TestServer, TestService};
use wf_types::SystemClock;

use crate::support::{example_referral, with_reference};

/// Methods whose own-record cell is not "reached" by a bare request naming the record, and why.
const NEEDS_MORE_THAN_THE_RECORD: &[(&str, &str)] = &[
    // a partner reads released details only under an active release naming it; the world has none
    ("/wayfinder.intake.v1.IntakeService/GetReleasedDetails", "needs an active release"),
];

/// Sends and receives protobuf bytes as they are, so any method can be called from its descriptor.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// One method from the descriptors, with the string field that names its record (if any).
#[derive(Debug, Clone)]
struct Method {
    path: String,
    /// (field number, field name) of the record id the request names.
    record_field: Option<(i32, String)>,
}

/// The record fields the world holds records for, in order of preference.
const RECORD_FIELDS: [&str; 3] = ["offer_id", "case_id", "referral_id"];

fn methods() -> Vec<Method> {
    let set = prost_types::FileDescriptorSet::decode(wf_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let mut messages = BTreeMap::new();
    for file in &set.file {
        for message in &file.message_type {
            messages.insert(format!(".{}.{}", file.package(), message.name()), message.clone());
        }
    }
    let mut methods = Vec::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                let input = &messages[method.input_type()];
                let strings: Vec<(i32, String)> = input
                    .field
                    .iter()
                    .filter(|f| f.r#type() == Type::String && f.label() != Label::Repeated)
                    .map(|f| (f.number(), f.name().to_owned()))
                    .collect();
                let record_field =
                    RECORD_FIELDS.iter().find_map(|name| strings.iter().find(|(_, field)| field == name)).cloned();
                methods.push(Method {
                    path: format!("/{}.{}/{}", file.package(), service.name(), method.name()),
                    record_field,
                });
            }
        }
    }
    methods
}

/// A request message with one string field set, in protobuf wire format.
fn request_naming(field: Option<i32>, value: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(number) = field {
        prost::encoding::string::encode(number as u32, &value.to_owned(), &mut bytes);
    }
    bytes
}

async fn call(channel: AuthedChannel, path: &str, body: Vec<u8>) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|err| Status::unavailable(err.to_string()))?;
    let path = tonic::codegen::http::uri::PathAndQuery::try_from(path.to_owned()).expect("path");
    grpc.unary(tonic::Request::new(body), path, Raw).await.map(|_| ())
}

/// What a cell answered, as the matrix cares.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    code: Code,
    /// The message with the record id masked.
    message: String,
}

impl Answer {
    fn of(result: Result<(), Status>, id: &str) -> Self {
        match result {
            Ok(()) => Answer { code: Code::Ok, message: String::new() },
            Err(status) => {
                let message =
                    if id.is_empty() { status.message().to_owned() } else { status.message().replace(id, "<id>") };
                Answer { code: status.code(), message }
            }
        }
    }

    fn reached(&self) -> bool {
        !matches!(self.code, Code::PermissionDenied | Code::NotFound | Code::Unauthenticated | Code::Unimplemented)
    }
}

/// The records of the world, each with the organization (or hotline subject) that owns it.
pub(crate) struct World {
    /// field name → (record id, owning partner organization)
    pub records: BTreeMap<&'static str, (String, String)>,
    /// The referral a hotline submitted, and its submitter's subject.
    pub hotline_referral: (String, String),
    /// An organization that owns none of the records.
    pub stranger: String,
}

pub(crate) const ORG_A: &str = "org_37500f7421c4437980c5cff292270a56";
pub(crate) const ORG_B: &str = "org_e74680f37b1a4624be1014d73e963b4b";

fn partner_referral(reference: &str, org: &str) -> intake::SubmitReferralRequest {
    let mut request = with_reference(example_referral(), reference);
    if let Some(referral) = request.referral.as_mut() {
        referral.referring_organization_id = org.to_owned();
    }
    request
}

/// Partner A's referral, offered to a partner that accepts it and has its case; a hotline's
/// referral of another (fictional) youth.
pub(crate) async fn world(server: &TestServer) -> World {
    let tokens = &server.tokens;
    let mut partner_a =
        intake::intake_service_client::IntakeServiceClient::new(server.channel(&tokens.partner(ORG_A)).await);
    let referral = partner_a
        .submit_referral(partner_referral("MATRIX-A-1", ORG_A))
        .await
        .expect("partner A submits")
        .into_inner()
        .referral_id;
    let hotline_subject = "usr_hotline_matrix_1";
    let mut hotline = intake::intake_service_client::IntakeServiceClient::new(
        server.channel(&tokens.token(TokenKind::User, hotline_subject, Role::Hotline)).await,
    );
    let mut other_youth = with_reference(example_referral(), "MATRIX-H-1");
    if let Some(personal) = other_youth.referral.as_mut().and_then(|r| r.personal.as_mut()) {
        personal.legal_last_name = "Youth-Beta".to_owned();
        personal.aliases.clear();
        if let Some(born) = personal.date_of_birth.as_mut() {
            born.day = 17;
        }
    }
    let hotline_referral =
        hotline.submit_referral(other_youth).await.expect("hotline submits").into_inner().referral_id;

    // routing offers the partner referral to some partner service; that partner owns the offer
    let staff_routing = routing::routing_service_client::RoutingServiceClient::new(
        server.channel(&tokens.user(Role::ProgramManager)).await,
    );
    let offer = wait_for("an offer for partner A's referral", || {
        let mut client = staff_routing.clone();
        let referral_id = referral.clone();
        async move {
            client
                .list_offers(routing::ListOffersRequest { referral_id, page_size: 10, ..Default::default() })
                .await
                .ok()
                .and_then(|answer| answer.into_inner().offers.into_iter().next())
        }
    })
    .await;
    let offered_to = offer.partner_id.clone();
    let mut offered_partner =
        routing::routing_service_client::RoutingServiceClient::new(server.channel(&tokens.partner(&offered_to)).await);
    offered_partner
        .accept_offer(routing::AcceptOfferRequest { offer_id: offer.offer_id.clone() })
        .await
        .expect("the offered partner accepts");
    let staff_intake =
        intake::intake_service_client::IntakeServiceClient::new(server.channel(&tokens.user(Role::Supervisor)).await);
    let case = wait_for("a case for partner A's referral", || {
        let mut client = staff_intake.clone();
        let referral_id = referral.clone();
        async move {
            let answer = client
                .get_referral(intake::GetReferralRequest { referral_id, purpose: String::new() })
                .await
                .ok()?
                .into_inner();
            (!answer.case_id.is_empty()).then_some(answer.case_id)
        }
    })
    .await;
    let stranger = [ORG_A, ORG_B, "org_fe4bd2b05589482d81198d7ffafad5dc"]
        .into_iter()
        .find(|org| *org != offered_to && *org != ORG_A)
        .expect("an uninvolved organization")
        .to_owned();
    let mut records = BTreeMap::new();
    records.insert("referral_id", (referral, ORG_A.to_owned()));
    records.insert("offer_id", (offer.offer_id, offered_to.clone()));
    records.insert("case_id", (case, offered_to));
    World { records, hotline_referral: (hotline_referral, hotline_subject.to_owned()), stranger }
}

/// The first `Some` that `check` gives within a minute.
pub(crate) async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "waited a minute for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A well-formed id of the same kind that names nothing.
fn unknown_like(id: &str) -> String {
    let prefix = id.split_once('_').map_or("x", |(prefix, _)| prefix);
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Own,
    Other,
    Unknown,
}

/// All five services, as one test server hosts them.
pub(crate) fn all_services() -> Vec<TestService> {
    vec![
        TestService::new(wf_intake::migrations(), |ctx| async move { Ok(wf_intake::build(ctx).await? as _) }),
        TestService::new(wf_routing::migrations(), |ctx| async move { Ok(wf_routing::build(ctx).await? as _) }),
        TestService::new(wf_cases::migrations(), |ctx| async move { Ok(wf_cases::build(ctx).await? as _) }),
        TestService::new(wf_audit::migrations(), |ctx| async move { Ok(wf_audit::build(ctx).await? as _) }),
        TestService::new(wf_evaluation::migrations(), |ctx| async move { Ok(wf_evaluation::build(ctx).await? as _) }),
    ]
}

async fn matrix(engine: Engine) {
    let server = TestServer::start_many(engine, SystemClock::shared(), all_services()).await;
    let world = world(&server).await;
    let methods = methods();

    let described: Vec<&str> = methods.iter().map(|m| m.path.as_str()).collect();
    for method in &described {
        assert!(wf_auth::rpc::rule(method).is_some(), "{method} has no row in the authorization table");
    }
    for rule in wf_auth::rpc::RPCS {
        assert!(described.contains(&rule.method), "the table names {} which no service declares", rule.method);
    }

    let mut cells = 0usize;
    let mut failures = Vec::new();
    for method in &methods {
        let rule = wf_auth::rpc::rule(&method.path).expect("checked above");
        for role in Role::ALL {
            let allowed = rule.allows(role);
            // the record this role owns, and a token for its owner and for a stranger
            let (record, owner_token, other_token) = match (&method.record_field, role) {
                (Some((_, field)), Role::Hotline) if field == "referral_id" => {
                    let (id, subject) = &world.hotline_referral;
                    (
                        Some(id.clone()),
                        server.tokens.token(TokenKind::User, subject, Role::Hotline),
                        server.tokens.token(TokenKind::User, "usr_hotline_matrix_2", Role::Hotline),
                    )
                }
                (Some((_, field)), Role::Partner) => {
                    let (id, org) = &world.records[field.as_str()];
                    (Some(id.clone()), server.tokens.partner(org), server.tokens.partner(&world.stranger))
                }
                (Some((_, field)), _) => {
                    let (id, _) = &world.records[field.as_str()];
                    let token = role_token(&server, role);
                    (Some(id.clone()), token.clone(), token)
                }
                (None, _) => (None, role_token(&server, role), role_token(&server, role)),
            };
            let field_number = method.record_field.as_ref().map(|(number, _)| *number);
            let scopes: &[Scope] =
                if record.is_some() { &[Scope::Own, Scope::Other, Scope::Unknown] } else { &[Scope::Own] };
            let mut answers = BTreeMap::new();
            for scope in scopes {
                let (token, id) = match scope {
                    Scope::Own => (&owner_token, record.clone().unwrap_or_default()),
                    Scope::Other => (&other_token, record.clone().unwrap_or_default()),
                    Scope::Unknown => (&owner_token, unknown_like(record.as_deref().unwrap_or("x_1"))),
                };
                let result = call(server.channel(token).await, &method.path, request_naming(field_number, &id)).await;
                let answer = Answer::of(result, &id);
                cells += 1;
                let wrong = if !allowed {
                    (answer.code != Code::PermissionDenied)
                        .then_some("a role the table refuses must be PERMISSION_DENIED")
                } else if answer.code == Code::PermissionDenied {
                    Some("a role the table allows must not be PERMISSION_DENIED")
                } else if *scope == Scope::Own
                    && record.is_some()
                    && !answer.reached()
                    && !NEEDS_MORE_THAN_THE_RECORD.iter().any(|(path, _)| *path == method.path)
                {
                    Some("the caller's own record must be reached")
                } else {
                    None
                };
                if let Some(rule) = wrong {
                    failures.push(format!("{} as {role} ({scope:?}): {answer:?} — {rule}", method.path));
                }
                answers.insert(format!("{scope:?}"), answer);
            }
            if allowed && matches!(role, Role::Partner | Role::Hotline) && record.is_some() {
                let (other, unknown) = (&answers["Other"], &answers["Unknown"]);
                if other != unknown {
                    failures.push(format!(
                        "{} as {role}: another organization's record answers {other:?}, an unknown id {unknown:?} — they must be identical",
                        method.path
                    ));
                }
            }
        }
    }
    println!("authorization matrix: {} methods × {} roles, {cells} cells", methods.len(), Role::ALL.len());
    assert!(failures.is_empty(), "{} of {cells} cells wrong:\n{}", failures.len(), failures.join("\n"));
    server.stop().await;
}

fn role_token(server: &TestServer, role: Role) -> String {
    match role {
        Role::Partner => server.tokens.partner(ORG_B),
        Role::Service => server.tokens.token(TokenKind::Service, "matrix-service", Role::Service),
        role => server.tokens.user(role),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rpc_answers_every_role_as_the_authorization_table_says_sqlite() {
    matrix(Engine::Sqlite).await;
}
