//! Which events each consuming service receives: the code twin of
//! `deploy/rabbitmq/definitions.json`. Every RabbitMQ process declares the whole
//! table at start-up, so no event can be published before its queues exist.

use crate::Subscription;

/// (service, topic bindings) for every consuming service.
pub const TOPOLOGY: &[(&str, &[&str])] = &[
    (
        "intake",
        &[
            "referral.routed",
            "referral.escalated",
            "escalation.resolved",
            "offer.*",
            "case.assigned",
            "case.awaiting_assignment",
            "case.reopened",
            "case.stage_changed",
            "case.closed",
            "contact_attempt.recorded",
        ],
    ),
    (
        "routing",
        &[
            "referral.received",
            "referral.triaged",
            "referral.closed",
            "offer.*",
            "case.closed",
            "contact_attempt.recorded",
        ],
    ),
    ("cases", &["referral.received", "referral.routed", "offer.accepted", "possible_match.confirmed"]),
    ("audit", &["#"]),
    (
        "evaluation",
        &[
            "referral.*",
            "case.*",
            "intervention.*",
            "follow_up.*",
            "recidivism.recorded",
            "possible_match.confirmed",
            "offer.*",
        ],
    ),
];

/// The subscription of `service` with default delivery settings.
pub fn subscription(service: &str) -> Option<Subscription> {
    TOPOLOGY.iter().find(|(name, _)| *name == service).map(|(name, bindings)| Subscription::new(*name, bindings))
}

/// Every service's subscription.
pub fn all() -> Vec<Subscription> {
    TOPOLOGY.iter().map(|(name, bindings)| Subscription::new(*name, bindings)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_receives_every_event_and_routing_receives_referrals() {
        assert!(subscription("audit").unwrap().matches("anything.at.all"));
        assert!(subscription("routing").unwrap().matches("referral.received"));
        assert!(!subscription("routing").unwrap().matches("case.assigned"));
        assert!(subscription("nobody").is_none());
    }

    /// The broker definitions deployed with the system bind exactly what this table says.
    #[test]
    fn the_deployed_rabbitmq_definitions_match_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/rabbitmq/definitions.json");
        let definitions: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for (service, bindings) in TOPOLOGY {
            let queue = format!("wayfinder.{service}");
            let mut deployed: Vec<&str> = definitions["bindings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| b["source"] == "wayfinder.events" && b["destination"] == queue.as_str())
                .map(|b| b["routing_key"].as_str().unwrap())
                .collect();
            let mut expected = bindings.to_vec();
            deployed.sort_unstable();
            expected.sort_unstable();
            assert_eq!(deployed, expected, "bindings of {queue} in {path}");
        }
    }
}
