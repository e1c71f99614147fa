//! The proto3 JSON mapping for every generated message, driven by the descriptor set.
//!
//! Used wherever JSON meets the protobuf contracts (the hotline webhook, the gateway's JSON API,
//! example files). Parsing accepts camelCase JSON names and original field names, and enum
//! values by name (or number). Unknown fields and unknown enum names are rejected with the path
//! of the offending value, so a sender can fix its payload. Printing is pretty, camelCase, with
//! enum names as strings and default values left out.

use std::sync::OnceLock;

use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, SerializeOptions,
};
use serde_json::Value;

/// Errors from converting between JSON and generated messages.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// The text is not JSON at all.
    #[error("invalid json: {0}")]
    Syntax(#[source] serde_json::Error),
    /// A key names no field of the message at `path`.
    #[error("unknown field `{field}` at `{path}`")]
    UnknownField { path: String, field: String },
    /// A string is not a value name of the enum expected at `path`.
    #[error("invalid value `{value}` for enum {enum_name} at `{path}`")]
    InvalidEnumValue { path: String, enum_name: String, value: String },
    /// A value does not fit its field (wrong type, a number that is not one, a bad timestamp, ...):
    /// the JSON path of the value (`referral.personal.phones[1].safeToCall`; empty for the whole
    /// document) and what the field takes, both from the descriptor, never the value itself.
    #[error("invalid {message_name}: {} {expected}", shown_path(path))]
    Invalid {
        message_name: String,
        path: String,
        /// What the field takes, e.g. "expected a whole number (int32) as a JSON number or a string of digits".
        expected: String,
        /// The parser's own message (it may quote the value).
        #[source]
        source: serde_json::Error,
    },
    /// The message type is not in the descriptor set (a bug: every generated type is).
    #[error("message type {0} is not in the descriptor set")]
    UnknownMessageType(String),
    /// The dynamic message could not be converted to the generated type.
    #[error("cannot convert {message_name}: {source}")]
    Transcode {
        message_name: String,
        #[source]
        source: prost::DecodeError,
    },
    /// Printing failed.
    #[error("cannot print json: {0}")]
    Print(#[source] serde_json::Error),
}

/// The descriptor pool of every Wayfinder proto, decoded once from [`crate::FILE_DESCRIPTOR_SET`].
pub fn descriptor_pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET).expect("the descriptor set written by build.rs decodes")
    })
}

fn message_descriptor<T: prost::Name>() -> Result<MessageDescriptor, JsonError> {
    let name = T::full_name();
    descriptor_pool().get_message_by_name(&name).ok_or(JsonError::UnknownMessageType(name))
}

/// Parses `json` (proto3 JSON mapping) into the generated message `T`. A value that does not fit is
/// [`JsonError::Invalid`] with its path and what its field expects.
pub fn from_json<T: prost::Message + prost::Name + Default>(json: &str) -> Result<T, JsonError> {
    let descriptor = message_descriptor::<T>()?;
    let value: Value = serde_json::from_str(json).map_err(JsonError::Syntax)?;
    check_message(&descriptor, &value, "")?;
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(value, &mut track);
    let dynamic =
        DynamicMessage::deserialize_with_options(descriptor.clone(), tracked, &options).map_err(|source| {
            let path = track.path().to_string();
            let path = if path == "." { String::new() } else { path };
            JsonError::Invalid {
                message_name: descriptor.full_name().to_owned(),
                expected: format!("expected {}", expected_at(&descriptor, &path)),
                path,
                source,
            }
        })?;
    dynamic
        .transcode_to::<T>()
        .map_err(|source| JsonError::Transcode { message_name: descriptor.full_name().to_owned(), source })
}

/// Prints `msg` as pretty proto3 JSON: camelCase names, enum names, default values omitted.
pub fn to_json<T: prost::Message + prost::Name>(msg: &T) -> Result<String, JsonError> {
    let descriptor = message_descriptor::<T>()?;
    let mut dynamic = DynamicMessage::new(descriptor.clone());
    dynamic
        .transcode_from(msg)
        .map_err(|source| JsonError::Transcode { message_name: descriptor.full_name().to_owned(), source })?;
    let mut serializer = serde_json::Serializer::pretty(Vec::new());
    dynamic.serialize_with_options(&mut serializer, &SerializeOptions::new()).map_err(JsonError::Print)?;
    // serde_json only writes valid UTF-8.
    Ok(String::from_utf8(serializer.into_inner()).expect("serde_json writes utf-8"))
}

/// Walks `value` against `descriptor` to report unknown fields and enum names with their path
/// (prost-reflect rejects them too, but without saying where).
fn check_message(descriptor: &MessageDescriptor, value: &Value, path: &str) -> Result<(), JsonError> {
    // Well-known types have their own JSON forms (strings, any JSON); prost-reflect checks them.
    if descriptor.full_name().starts_with("google.protobuf.") {
        return Ok(());
    }
    let Value::Object(object) = value else {
        return Ok(());
    };
    for (key, field_value) in object {
        let field_path = join(path, key);
        let field = descriptor
            .get_field_by_json_name(key)
            .or_else(|| descriptor.get_field_by_name(key))
            .ok_or_else(|| JsonError::UnknownField { path: field_path.clone(), field: key.clone() })?;
        check_field(&field, field_value, &field_path)?;
    }
    Ok(())
}

fn check_field(field: &FieldDescriptor, value: &Value, path: &str) -> Result<(), JsonError> {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            return Ok(());
        };
        let value_field = entry.map_entry_value_field();
        if let Value::Object(map) = value {
            for (key, item) in map {
                check_single(&value_field.kind(), item, &format!("{path}[{key:?}]"))?;
            }
        }
        return Ok(());
    }
    if field.is_list() {
        if let Value::Array(items) = value {
            for (index, item) in items.iter().enumerate() {
                check_single(&field.kind(), item, &format!("{path}[{index}]"))?;
            }
        }
        return Ok(());
    }
    check_single(&field.kind(), value, path)
}

fn check_single(kind: &Kind, value: &Value, path: &str) -> Result<(), JsonError> {
    match (kind, value) {
        (Kind::Message(message), _) => check_message(message, value, path),
        (Kind::Enum(enumeration), Value::String(name)) => {
            if enumeration.get_value_by_name(name).is_some() {
                Ok(())
            } else {
                Err(JsonError::InvalidEnumValue {
                    path: path.to_owned(),
                    enum_name: enumeration.full_name().to_owned(),
                    value: name.clone(),
                })
            }
        }
        _ => Ok(()),
    }
}

fn shown_path(path: &str) -> String {
    if path.is_empty() { "the document:".to_owned() } else { format!("`{path}`:") }
}

/// What the value at `path` (as serde_path_to_error writes it: `a.b[2].c`) must be, from the
/// descriptor alone.
fn expected_at(root: &MessageDescriptor, path: &str) -> String {
    let whole = || format!("an object ({})", root.full_name());
    if path.is_empty() {
        return whole();
    }
    let mut message = root.clone();
    let mut segments = path_segments(path).into_iter().peekable();
    while let Some(key) = segments.next() {
        let Some(field) = message.get_field_by_json_name(&key).or_else(|| message.get_field_by_name(&key)) else {
            return whole();
        };
        // A list's element or a map's value when the path goes on into it.
        let element = (field.is_list() || field.is_map()) && segments.peek().is_some();
        if element {
            segments.next();
        }
        let kind = if field.is_map() && element {
            match field.kind() {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                other => other,
            }
        } else {
            field.kind()
        };
        let last = segments.peek().is_none();
        match kind {
            Kind::Message(inner) if !last && !is_well_known(&inner) => message = inner,
            kind if last && field.is_list() && !element => return format!("a list, each entry {}", describe(&kind)),
            kind if last && field.is_map() && !element => return format!("an object, each value {}", describe(&kind)),
            kind if last => return describe(&kind),
            _ => return whole(),
        }
    }
    whole()
}

/// `a.b[2].c` as ["a", "b", "2", "c"].
fn path_segments(path: &str) -> Vec<String> {
    path.split('.')
        .flat_map(|part| part.split(['[', ']']).filter(|s| !s.is_empty()).map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

fn is_well_known(message: &MessageDescriptor) -> bool {
    message.full_name().starts_with("google.protobuf.")
}

/// What a value of `kind` looks like in the proto3 JSON mapping.
fn describe(kind: &Kind) -> String {
    let whole = |name: &str| format!("a whole number ({name}) as a JSON number or a string of digits");
    match kind {
        Kind::Double | Kind::Float => "a number".to_owned(),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => whole("int32"),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => whole("int64"),
        Kind::Uint32 | Kind::Fixed32 => whole("uint32, not negative"),
        Kind::Uint64 | Kind::Fixed64 => whole("uint64, not negative"),
        Kind::Bool => "a JSON boolean (true or false)".to_owned(),
        Kind::String => "a string".to_owned(),
        Kind::Bytes => "base64 text".to_owned(),
        Kind::Enum(enumeration) => {
            let example = enumeration.values().find(|value| value.number() != 0).map(|value| value.name().to_owned());
            match example {
                Some(example) => format!("a value name of {} (e.g. \"{example}\")", enumeration.full_name()),
                None => format!("a value name of {}", enumeration.full_name()),
            }
        }
        Kind::Message(message) => match message.full_name() {
            "google.protobuf.Timestamp" => "an RFC 3339 timestamp string, e.g. \"2026-03-02T18:45:00Z\"".to_owned(),
            "google.protobuf.Duration" => "a duration string in seconds, e.g. \"3.5s\"".to_owned(),
            "google.protobuf.FieldMask" => "a string of comma-separated field paths, e.g. \"income,site\"".to_owned(),
            name => format!("an object ({name})"),
        },
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::v1::{Date, ReferralSource, Site, TriageTier};
    use crate::intake::v1::{PersonalDetails, Referral, SafeContact, SubmitReferralRequest};

    const EXAMPLE_REFERRAL: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json"));

    fn fictional_request() -> SubmitReferralRequest {
        SubmitReferralRequest {
            referral: Some(Referral {
                source: ReferralSource::Hotline as i32,
                referring_organization_id: "org_01JTESTHOTLINE".into(),
                external_reference: "HL-TEST-0001".into(),
                received_at: Some(prost_types::Timestamp { seconds: 1_767_225_600, nanos: 0 }),
                triage_tier: TriageTier::Urgent as i32,
                site: Site::SouthLosAngeles as i32,
                needs: vec!["emergency_shelter".into(), "mental_health".into()],
                preferred_language: "es".into(),
                practice: true,
                personal: Some(PersonalDetails {
                    legal_first_name: "Testy".into(),
                    legal_last_name: "McTestface".into(),
                    aliases: vec!["TM".into()],
                    date_of_birth: Some(Date { year: 2009, month: 4, day: 1 }),
                    safe_contact: Some(SafeContact {
                        contacting_prohibited: false,
                        never_say: vec!["trafficking".into()],
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn submit_referral_round_trips_through_json() {
        let request = fictional_request();
        let json = to_json(&request).unwrap();
        assert!(json.contains("\"source\": \"REFERRAL_SOURCE_HOTLINE\""), "{json}");
        assert!(json.contains("\"legalFirstName\": \"Testy\""), "{json}");
        assert!(json.contains("\"receivedAt\": \"2026-01-01T00:00:00Z\""), "{json}");
        let parsed: SubmitReferralRequest = from_json(&json).unwrap();
        assert_eq!(parsed, request);
    }

    #[test]
    fn original_field_names_are_accepted() {
        let parsed: SubmitReferralRequest = from_json(
            r#"{"referral": {"triage_tier": "TRIAGE_TIER_EMERGENT", "personal": {"legal_last_name": "McTestface"}}}"#,
        )
        .unwrap();
        let referral = parsed.referral.unwrap();
        assert_eq!(referral.triage_tier(), TriageTier::Emergent);
        assert_eq!(referral.personal.unwrap().legal_last_name, "McTestface");
    }

    #[test]
    fn unknown_field_is_rejected_with_its_path() {
        let error = from_json::<SubmitReferralRequest>(
            r#"{"referral": {"personal": {"legalFirstName": "Testy", "favouriteColour": "teal"}}}"#,
        )
        .unwrap_err();
        assert!(matches!(error, JsonError::UnknownField { .. }), "{error:?}");
        assert!(error.to_string().contains("referral.personal.favouriteColour"), "{error}");
    }

    #[test]
    fn unknown_top_level_field_is_rejected() {
        let error = from_json::<SubmitReferralRequest>(r#"{"referal": {}}"#).unwrap_err();
        assert!(error.to_string().contains("`referal`"), "{error}");
    }

    #[test]
    fn bad_enum_name_is_rejected_with_its_path() {
        let error = from_json::<SubmitReferralRequest>(
            r#"{"referral": {"arrests": [{"justiceLevel": "JUSTICE_LEVEL_ADULT"}, {"justiceLevel": "ADULT"}]}}"#,
        )
        .unwrap_err();
        assert!(matches!(error, JsonError::InvalidEnumValue { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("referral.arrests[1].justiceLevel"), "{message}");
        assert!(message.contains("`ADULT`"), "{message}");
    }

    /// A value that does not fit its field: the error names the JSON path and what the field takes,
    /// never the value (issue 13, finding 6: `invalid digit found in string` said neither).
    #[test]
    fn a_value_that_does_not_fit_names_its_path_and_what_the_field_expects() {
        for (json, path, expected) in [
            (
                r#"{"referral": {"personal": {"estimatedAge": "seventeen"}}}"#,
                "referral.personal.estimatedAge",
                "expected a whole number (int32) as a JSON number or a string of digits",
            ),
            (
                r#"{"referral": {"personal": {"phones": [{}, {"safeToCall": "Jane Fictional"}]}}}"#,
                "referral.personal.phones[1].safeToCall",
                "expected a JSON boolean (true or false)",
            ),
            (
                r#"{"referral": {"receivedAt": "Jane Fictional"}}"#,
                "referral.receivedAt",
                "expected an RFC 3339 timestamp string, e.g. \"2026-03-02T18:45:00Z\"",
            ),
            (r#"{"referral": {"needs": "mental_health"}}"#, "referral.needs", "expected a list, each entry a string"),
            (r#"{"referral": {"needs": [7]}}"#, "referral.needs[0]", "expected a string"),
            (
                r#"{"referral": {"personal": {"dateOfBirth": {"year": "1.5"}}}}"#,
                "referral.personal.dateOfBirth.year",
                "expected a whole number (int32) as a JSON number or a string of digits",
            ),
            (
                r#"{"referral": {"screenings": [{"tool": 1.5}]}}"#,
                "referral.screenings[0].tool",
                "expected a value name of wayfinder.common.v1.ScreeningTool",
            ),
            (r#"{"referral": "Jane"}"#, "referral", "expected an object (wayfinder.intake.v1.Referral)"),
            (r#"[1]"#, "", "expected an object (wayfinder.intake.v1.SubmitReferralRequest)"),
        ] {
            let error = from_json::<SubmitReferralRequest>(json).unwrap_err();
            let JsonError::Invalid { path: found, expected: what, .. } = &error else {
                panic!("{json}: {error:?}");
            };
            assert_eq!(found, path, "{json}");
            assert!(what.starts_with(expected), "{json}: {what}");
            let message = error.to_string();
            assert!(!message.contains("Jane") && !message.contains("seventeen"), "{message}");
            if !path.is_empty() {
                assert!(message.contains(&format!("`{path}`")), "{message}");
            }
        }
    }

    #[test]
    fn invalid_json_is_a_syntax_error() {
        let error = from_json::<SubmitReferralRequest>("{").unwrap_err();
        assert!(matches!(error, JsonError::Syntax(_)), "{error:?}");
    }

    #[test]
    fn example_referral_parses() {
        let request: SubmitReferralRequest = from_json(EXAMPLE_REFERRAL).unwrap();
        let referral = request.referral.unwrap();
        assert_eq!(referral.source(), ReferralSource::Hotline);
        assert_eq!(referral.site(), Site::SouthLosAngeles);
        assert_eq!(referral.triage_tier(), TriageTier::Urgent);
        assert_eq!(referral.external_reference, "HL-2026-0001");
        let personal = referral.personal.unwrap();
        assert_eq!(personal.legal_first_name, "Demo");
        assert_eq!(personal.legal_last_name, "Youth-Alpha");
    }

    #[test]
    fn example_referral_fills_every_field() {
        let example: Value = serde_json::from_str(EXAMPLE_REFERRAL).unwrap();
        for (message, object) in [
            ("wayfinder.intake.v1.Referral", &example["referral"]),
            ("wayfinder.intake.v1.PersonalDetails", &example["referral"]["personal"]),
        ] {
            let descriptor = descriptor_pool().get_message_by_name(message).unwrap();
            for field in descriptor.fields() {
                assert!(
                    object.get(field.json_name()).is_some(),
                    "examples/referral.json lacks {message}.{}",
                    field.json_name()
                );
            }
        }
    }

    #[test]
    fn every_package_is_in_the_pool() {
        for name in [
            "wayfinder.common.v1.Date",
            "wayfinder.events.v1.EventEnvelope",
            "wayfinder.events.v1.ReferralReceived",
            "wayfinder.intake.v1.SubmitReferralRequest",
            "wayfinder.routing.v1.RoutingDecision",
            "wayfinder.cases.v1.Case",
            "wayfinder.audit.v1.AuditEntry",
            "wayfinder.evaluation.v1.Report",
        ] {
            assert!(descriptor_pool().get_message_by_name(name).is_some(), "{name}");
        }
    }
}
