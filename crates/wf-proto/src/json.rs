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
    /// The JSON does not fit the message (wrong type, bad timestamp, ...).
    #[error("invalid {message_name}: {source}")]
    Invalid {
        message_name: String,
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

/// Parses `json` (proto3 JSON mapping) into the generated message `T`.
pub fn from_json<T: prost::Message + prost::Name + Default>(json: &str) -> Result<T, JsonError> {
    let descriptor = message_descriptor::<T>()?;
    let value: Value = serde_json::from_str(json).map_err(JsonError::Syntax)?;
    check_message(&descriptor, &value, "")?;
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let dynamic = DynamicMessage::deserialize_with_options(descriptor.clone(), value, &options)
        .map_err(|source| JsonError::Invalid { message_name: descriptor.full_name().to_owned(), source })?;
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
