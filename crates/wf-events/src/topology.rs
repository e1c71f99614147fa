//! Which events each consuming service receives: the code twin of
//! `deploy/rabbitmq/definitions.json`. Every RabbitMQ process declares the whole
//! table at start-up, so no event can be published before its queues exist.

use crate::Subscription;

/// (service, topic bindings) for every consuming service.
pub const TOPOLOGY: &[(&str, &[&str])] = &[
    ("intake", &["referral.routed", "case.assigned"]),
    ("routing", &["referral.received", "offer.*", "case.closed"]),
    ("cases", &["referral.received", "referral.routed", "offer.accepted"]),
    ("audit", &["#"]),
    (
        "evaluation",
        &["referral.*", "case.*", "intervention.delivered", "follow_up.*", "recidivism.recorded", "possible_match.confirmed"],
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
}
