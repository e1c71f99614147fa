//! What an event becomes in the log. The actor is the one person or service responsible: for
//! access and export events the reader named in the payload, for a refused call (`access.refused`)
//! the caller refused, for every other event the service that produced it.

use wf_events::{Envelope, EventPayload};
use wf_proto::events::v1 as pb;

use super::chain::EntryContent;

/// Role recorded for entries whose actor is the producing service.
pub const SERVICE_ROLE: &str = "service";

/// Why an event cannot be appended. Each is permanent: redelivering the same bytes cannot help.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EntryError {
    #[error("{event_type} payload is not readable: {reason}")]
    UnreadablePayload { event_type: String, reason: String },
    #[error("{event_type} names no actor")]
    MissingActor { event_type: String },
}

/// The entry content for `envelope`, stamped `recorded_at_micros`.
pub fn content_from(envelope: &Envelope, recorded_at_micros: i64) -> Result<EntryContent, EntryError> {
    let unreadable = |err: wf_events::EnvelopeError| EntryError::UnreadablePayload {
        event_type: envelope.event_type.clone(),
        reason: err.to_string(),
    };
    let mut content = EntryContent {
        event_id: envelope.event_id.to_string(),
        event_type: envelope.event_type.clone(),
        schema_version: envelope.schema_version,
        aggregate_id: envelope.aggregate_id.clone(),
        correlation_id: envelope.correlation_id.clone(),
        producer: envelope.producer.clone(),
        actor: envelope.producer.clone(),
        actor_role: SERVICE_ROLE.to_owned(),
        purpose: String::new(),
        release_id: String::new(),
        fields: Vec::new(),
        occurred_at_micros: wf_db::to_micros(envelope.occurred_at),
        recorded_at_micros,
        payload: envelope.payload.clone(),
    };
    if envelope.event_type == pb::RecordAccessed::TYPE {
        let access = envelope.payload_as::<pb::RecordAccessed>().map_err(unreadable)?;
        content.actor = access.actor;
        content.actor_role = access.actor_role;
        content.purpose = access.purpose;
        content.release_id = access.release_id;
        content.fields = access.fields;
    } else if envelope.event_type == pb::RecordExported::TYPE {
        // An export is a disclosure too: the person who ran it is responsible, not the service.
        let export = envelope.payload_as::<pb::RecordExported>().map_err(unreadable)?;
        content.actor = export.actor;
        content.actor_role = export.actor_role;
        content.purpose = export.purpose;
        content.release_id = export.release_id;
    } else if envelope.event_type == pb::AccessRefused::TYPE {
        // A refused call is on the record of whoever made it ("unauthenticated" when no token
        // verified), not of the service that refused it. No purpose or release: nothing was read.
        // The record asked for stays in the payload (and is the envelope's aggregate).
        let refused = envelope.payload_as::<pb::AccessRefused>().map_err(unreadable)?;
        content.actor = refused.actor;
        content.actor_role = refused.actor_role;
    }
    if content.actor.trim().is_empty() {
        return Err(EntryError::MissingActor { event_type: envelope.event_type.clone() });
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(actor: &str) -> pb::RecordAccessed {
        pb::RecordAccessed {
            actor: actor.to_owned(),
            actor_role: "case_manager".to_owned(),
            record_id: "ref_1".to_owned(),
            purpose: "case_management".to_owned(),
            fields: vec!["personal.legal_first_name".to_owned(), "personal.safe_contact".to_owned()],
            release_id: "rel_9".to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn access_events_name_the_reader() {
        let envelope = Envelope::new("intake", "ref_1", "ref_1", &access("usr_cm7"));
        let content = content_from(&envelope, 42).unwrap();
        assert_eq!(content.actor, "usr_cm7");
        assert_eq!(content.actor_role, "case_manager");
        assert_eq!(content.purpose, "case_management");
        assert_eq!(content.release_id, "rel_9");
        assert_eq!(content.fields, ["personal.legal_first_name", "personal.safe_contact"]);
        assert_eq!(content.producer, "intake");
        assert_eq!(content.event_id, envelope.event_id.to_string());
        assert_eq!(content.payload, envelope.payload);
        assert_eq!(content.recorded_at_micros, 42);
        assert_eq!(content.occurred_at_micros, wf_db::to_micros(envelope.occurred_at));
    }

    #[test]
    fn other_events_name_the_producing_service() {
        let received = pb::ReferralReceived::default();
        let envelope = Envelope::new("intake", "ref_2", "ref_2", &received);
        let content = content_from(&envelope, 1).unwrap();
        assert_eq!((content.actor.as_str(), content.actor_role.as_str()), ("intake", SERVICE_ROLE));
        assert!(content.fields.is_empty() && content.purpose.is_empty());
        assert_eq!(content.correlation_id, "ref_2");
    }

    #[test]
    fn exports_name_the_person_who_exported() {
        let export = pb::RecordExported {
            actor: "usr_sup1".to_owned(),
            actor_role: "supervisor".to_owned(),
            purpose: "disclosure_report".to_owned(),
            ..Default::default()
        };
        let content = content_from(&Envelope::new("cases", "case_1", "ref_1", &export), 1).unwrap();
        assert_eq!((content.actor.as_str(), content.actor_role.as_str()), ("usr_sup1", "supervisor"));
    }

    #[test]
    fn refusals_name_the_caller_refused_with_no_purpose() {
        let refused = pb::AccessRefused {
            actor: "usr_hot1".to_owned(),
            actor_role: "hotline".to_owned(),
            operation: "/wayfinder.intake.v1.IntakeService/GetReferral".to_owned(),
            record_id: "ref_7".to_owned(),
            reason: "out_of_scope".to_owned(),
            ..Default::default()
        };
        let envelope = Envelope::new("intake", "ref_7", "ref_7", &refused);
        let content = content_from(&envelope, 1).unwrap();
        assert_eq!((content.actor.as_str(), content.actor_role.as_str()), ("usr_hot1", "hotline"));
        assert!(content.purpose.is_empty() && content.release_id.is_empty() && content.fields.is_empty());
        assert_eq!((content.producer.as_str(), content.aggregate_id.as_str()), ("intake", "ref_7"));

        let unauthenticated = pb::AccessRefused {
            actor: "unauthenticated".to_owned(),
            reason: "unauthenticated".to_owned(),
            ..Default::default()
        };
        let envelope = Envelope::new("cases", "unauthenticated", "unauthenticated", &unauthenticated);
        let content = content_from(&envelope, 1).unwrap();
        assert_eq!((content.actor.as_str(), content.actor_role.as_str()), ("unauthenticated", ""));

        let nobody = pb::AccessRefused { actor: String::new(), ..refused };
        assert!(matches!(
            content_from(&Envelope::new("intake", "ref_7", "ref_7", &nobody), 1),
            Err(EntryError::MissingActor { .. })
        ));
    }

    #[test]
    fn an_access_without_an_actor_is_refused() {
        let envelope = Envelope::new("intake", "ref_1", "ref_1", &access(" "));
        assert_eq!(
            content_from(&envelope, 1).unwrap_err(),
            EntryError::MissingActor { event_type: "record.accessed".to_owned() }
        );
    }

    #[test]
    fn an_unreadable_access_payload_is_refused() {
        let mut envelope = Envelope::new("intake", "ref_1", "ref_1", &access("usr_1"));
        envelope.payload = vec![0x0a, 0x05, b'x']; // field 1 claims 5 bytes, has 1
        assert!(matches!(content_from(&envelope, 1), Err(EntryError::UnreadablePayload { .. })));
    }

    #[test]
    fn an_event_without_a_producer_is_refused() {
        let mut envelope = Envelope::new("routing", "ref_1", "ref_1", &pb::OfferMade::default());
        envelope.producer.clear();
        assert!(matches!(content_from(&envelope, 1), Err(EntryError::MissingActor { .. })));
    }
}
