//! The one builder of a `record.accessed` payload: who read (actor, role, organization), which
//! record, why, which parts, when, in which trace. Each service adds what only it knows (a release,
//! emergency access) and wraps it in its envelope.

use wf_auth::Principal;
use wf_proto::events::v1 as events;

/// `principal`'s read of `fields` of `record_id` for `purpose` (a code, or empty) at `at_micros`.
pub fn record_accessed(
    principal: &Principal,
    record_id: &str,
    purpose: &str,
    fields: Vec<String>,
    at_micros: i64,
) -> events::RecordAccessed {
    events::RecordAccessed {
        actor: principal.subject.clone(),
        actor_role: principal.role.to_string(),
        record_id: record_id.to_owned(),
        purpose: purpose.to_owned(),
        fields,
        at: Some(wf_proto::time::timestamp_from_micros(at_micros)),
        actor_organization_id: principal.partner_id.clone().unwrap_or_default(),
        trace_id: wf_telemetry::TraceContext::current().trace_id().unwrap_or_default(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_names_who_in_which_role_and_organization_what_and_why() {
        let principal = Principal {
            subject: "client_fictional".into(),
            role: wf_auth::Role::Partner,
            partner_id: Some("org_fictional".into()),
            kind: wf_auth::TokenKind::Partner,
            token_id: "jti".into(),
        };
        let read = record_accessed(&principal, "off_1", "service_referral", vec!["offer.coded".into()], 1_000_000);
        assert_eq!(
            (read.actor.as_str(), read.actor_role.as_str(), read.actor_organization_id.as_str()),
            ("client_fictional", "partner", "org_fictional")
        );
        assert_eq!((read.record_id.as_str(), read.purpose.as_str()), ("off_1", "service_referral"));
        assert_eq!(read.fields, ["offer.coded"]);
        assert_eq!(read.at.map(|t| t.seconds), Some(1));
        assert!(read.release_id.is_empty() && !read.break_glass);
    }
}
