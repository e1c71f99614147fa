//! Shared pieces of the audit tests: a migrated log of the test's own (its database from
//! wf-testkit, on either engine) with a scratch folder, and events as producers send them.

use std::path::PathBuf;

use uuid::Uuid;
use wf_audit::AuditEvents;
use wf_db::{Backend, Db};
use wf_events::{Envelope, EventPayload};
use wf_proto::events::v1 as pb;
use wf_testkit::{Engine, TestDatabase};
use wf_types::{SharedClock, SystemClock};

/// A migrated audit database that is removed when the test ends, even when it panics.
pub struct TestLog {
    pub db: Db,
    /// A scratch folder (checkpoint files).
    pub dir: PathBuf,
    /// What the log's appends read (the wall clock).
    pub clock: SharedClock,
    _database: TestDatabase,
    _scratch: tempfile::TempDir,
}

impl TestLog {
    pub async fn new(engine: Engine) -> Self {
        let database = TestDatabase::new(engine).await;
        let db = database.migrated(&wf_audit::migrations()).await;
        let scratch = tempfile::tempdir().expect("scratch folder");
        Self {
            db,
            dir: scratch.path().to_owned(),
            clock: SystemClock::shared(),
            _database: database,
            _scratch: scratch,
        }
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The consumer's handler over this log.
    pub fn handler(&self) -> AuditEvents {
        AuditEvents::new(self.db.clone(), self.clock.clone())
    }
}

pub fn referral_id() -> String {
    format!("ref_{}", Uuid::now_v7().simple())
}

/// An event as a producer would send it.
pub fn event<P: EventPayload>(producer: &str, aggregate_id: &str, referral_id: &str, payload: &P) -> Envelope {
    Envelope::new(producer, aggregate_id, referral_id, payload)
}

pub fn received(referral_id: &str) -> Envelope {
    event("intake", referral_id, referral_id, &pb::ReferralReceived::default())
}

pub fn accessed(referral_id: &str, actor: &str) -> Envelope {
    let access = pb::RecordAccessed {
        actor: actor.to_owned(),
        actor_role: "case_manager".to_owned(),
        record_id: referral_id.to_owned(),
        purpose: "case_management".to_owned(),
        fields: vec!["personal.legal_first_name".to_owned()],
        release_id: String::new(),
        ..Default::default()
    };
    event("intake", referral_id, referral_id, &access)
}

pub fn offer_made(referral_id: &str) -> Envelope {
    event("routing", &wf_types::OfferId::generate().to_string(), referral_id, &pb::OfferMade::default())
}
