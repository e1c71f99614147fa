//! Generated protobuf messages and gRPC stubs for every Wayfinder API, the encoded descriptor
//! set, the proto3 JSON mapping (`json`) used by the webhook, the gateway and the examples, and the
//! case lifecycle's transition table (`lifecycle`) that cases enforces and the gateway's stepper shows.

pub mod json;
pub mod lifecycle;
pub mod time;

/// Encoded `FileDescriptorSet` of every Wayfinder proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/wayfinder_descriptor.bin"));

/// Types shared by every API: sites, triage tiers, dates, referral sources, coded value lists.
pub mod common {
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod v1 {
        tonic::include_proto!("wayfinder.common.v1");
    }
}

/// Event envelope and payloads (coded fields only, never direct identifiers).
pub mod events {
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod v1 {
        tonic::include_proto!("wayfinder.events.v1");
    }
}

/// Referral intake, the personal-data vault, consent releases, screenings, mandated reports.
pub mod intake {
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod v1 {
        tonic::include_proto!("wayfinder.intake.v1");
    }
}

/// Partner directory, routing policy, decisions, offers and escalations.
pub mod routing {
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod v1 {
        tonic::include_proto!("wayfinder.routing.v1");
    }
}

/// Case-manager roster and the case record.
pub mod cases {
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod v1 {
        tonic::include_proto!("wayfinder.cases.v1");
    }
}

/// Hash-chained audit log, checkpoints, proofs and disclosure reports.
pub mod audit {
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod v1 {
        tonic::include_proto!("wayfinder.audit.v1");
    }
}

/// Aggregate, de-identified baseline and outcome reports.
pub mod evaluation {
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod v1 {
        tonic::include_proto!("wayfinder.evaluation.v1");
    }
}

/// Operations on any Wayfinder process: dead letters.
pub mod admin {
    #[allow(clippy::all, clippy::pedantic, missing_docs)]
    pub mod v1 {
        tonic::include_proto!("wayfinder.admin.v1");
    }
}
