//! The cases service built directly over a test database (`wf_testkit::TestDatabase`, on SQLite
//! or PostgreSQL as `both_engines!` asks), with an in-process bus, plus the envelopes and callers
//! the tests feed it.

use std::sync::Arc;

use uuid::Uuid;
use wf_auth::{Principal, Role, TokenKind};
use wf_cases::RoutedOutcome;
use wf_db::Db;
use wf_events::{Envelope, InProcessBus, Relay, RelayOptions};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::events::v1 as pb;
use wf_server::ServiceContext;
use wf_testkit::{Collector, Engine, TestDatabase};
use wf_types::ReferralId;

/// A fresh, empty database for one test, and a folder of its own (configuration, roster file).
pub struct TestDb {
    pub db: Db,
    pub dir: tempfile::TempDir,
    _database: TestDatabase,
}

impl TestDb {
    pub async fn new(engine: Engine) -> Self {
        let database = TestDatabase::new(engine).await;
        let db = database.connect().await;
        Self { db, dir: tempfile::tempdir().expect("test folder"), _database: database }
    }
}

/// A cases service on `test.db`, with `roster` (TOML) or the demo roster.
pub struct Harness {
    pub cases: Arc<wf_cases::Cases>,
    pub db: Db,
    pub bus: InProcessBus,
}

impl Harness {
    pub async fn start(test: &TestDb, roster: Option<&str>) -> Harness {
        let mut config = wf_config::Config::load(None, Some(test.dir.path())).expect("config");
        config.auto_migrate = true;
        config.roster_file = roster.map(|text| {
            let path = test.dir.path().join("roster.toml");
            std::fs::write(&path, text).expect("write roster");
            path
        });
        let bus = InProcessBus::new(test.db.clone());
        let ctx = ServiceContext::new(test.db.clone(), Arc::new(bus.clone()), Arc::new(config));
        let cases = wf_cases::build(ctx).await.expect("build cases");
        Harness { cases, db: test.db.clone(), bus }
    }

    /// Publishes whatever the cases outbox holds, as the relay would.
    pub async fn relay_round(&self) -> usize {
        let relay = Relay::new(wf_cases::SERVICE, self.db.clone(), Arc::new(self.bus.clone()), RelayOptions::default());
        let report = relay.round().await.expect("relay round");
        assert_eq!(report.sent, report.claimed, "every claimed event was published");
        report.sent
    }

    /// Starts a queue bound to `case.#` that keeps every envelope it receives.
    pub async fn collect_case_events(&self) -> Collector {
        Collector::start(Arc::new(self.bus.clone()), "collector", &["case.#"]).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let (count,): (i64,) = sqlx::query_as(sql).fetch_one(self.db.pool()).await.expect(sql);
        count
    }
}

/// A `referral.routed` envelope as routing would publish it.
pub fn referral_routed(referral_id: &ReferralId, site: Site, practice: bool) -> Envelope {
    let payload = pb::ReferralRouted {
        referral_id: referral_id.to_string(),
        decision_id: wf_types::DecisionId::generate().to_string(),
        partner_id: "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".to_owned(),
        partner_service_id: "svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".to_owned(),
        triage_tier: TriageTier::Routine as i32,
        site: site as i32,
        policy_version: "demo-1".to_owned(),
        practice,
        reason: "referral_received".to_owned(),
        attempt: 1,
        ..Default::default()
    };
    Envelope::new("routing", referral_id.to_string(), referral_id.to_string(), &payload)
}

/// A `referral.received` envelope as intake would publish it, for a new youth.
pub fn referral_received(referral_id: &ReferralId, site: Site, practice: bool) -> Envelope {
    referral_received_for(referral_id, &wf_types::YouthId::generate(), site, "").tap_practice(practice)
}

/// A `referral.received` for a given youth and preferred language.
pub fn referral_received_for(
    referral_id: &ReferralId,
    youth_id: &wf_types::YouthId,
    site: Site,
    language: &str,
) -> Envelope {
    let payload = pb::ReferralReceived {
        referral_id: referral_id.to_string(),
        youth_id: youth_id.to_string(),
        site: site as i32,
        triage_tier: TriageTier::Routine as i32,
        preferred_language: language.to_owned(),
        ..Default::default()
    };
    Envelope::new("intake", referral_id.to_string(), referral_id.to_string(), &payload)
}

trait TapPractice {
    fn tap_practice(self, practice: bool) -> Self;
}

impl TapPractice for Envelope {
    fn tap_practice(mut self, practice: bool) -> Self {
        let mut payload: pb::ReferralReceived = self.payload_as().expect("payload");
        payload.practice = practice;
        self.payload = prost::Message::encode_to_vec(&payload);
        self
    }
}

impl Harness {
    /// Delivers `referral.received`, then `referral.routed`, as intake and routing would.
    pub async fn route(&self, referral_id: &ReferralId, site: Site, practice: bool) -> RoutedOutcome {
        self.received(referral_id, site).await;
        let routed = referral_routed(referral_id, site, practice);
        self.cases.event_handler().on_referral_routed(&routed).await.expect("referral.routed handled")
    }

    /// Delivers the `referral.received` that must precede a routed referral.
    pub async fn received(&self, referral_id: &ReferralId, site: Site) {
        let received = referral_received(referral_id, site, false);
        self.cases.event_handler().on_referral_received(&received).await.expect("referral.received handled");
    }
}

/// A verified caller with `role`, as the auth interceptor would leave it on the request.
pub fn request_as<T>(role: Role, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let kind = if role == Role::Service { TokenKind::Service } else { TokenKind::User };
    request.extensions_mut().insert(Principal {
        subject: "usr_test".to_owned(),
        role,
        partner_id: None,
        kind,
        token_id: Uuid::new_v4().to_string(),
    });
    request
}

/// A roster of case managers `(id, site, cap)` under one supervisor, all speaking English.
pub fn roster(case_managers: &[(&str, &str, u32)]) -> String {
    let mut text = String::from(
        "[[supervisor]]\nid = \"cm_000000000000000000000000000000f1\"\ndisplay_code = \"SUP-T-1\"\n\
         display_name = \"Test Supervisor\"\nsites = [\"countywide\"]\n",
    );
    for (index, (id, site, cap)) in case_managers.iter().enumerate() {
        text.push_str(&format!(
            "\n[[case_manager]]\nid = \"{id}\"\ndisplay_code = \"CM-T-{index}\"\ndisplay_name = \"Test Case Manager\"\n\
             sites = [\"{site}\"]\nlanguages = [\"en\"]\nmax_caseload = {cap}\nsupervisor = \"cm_000000000000000000000000000000f1\"\n"
        ));
    }
    text
}
