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

    /// The SQLite file itself (`None` on PostgreSQL); its write-ahead log is beside it (`-wal`).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self._database
            .url()
            .strip_prefix("sqlite:")
            .map(|path| std::path::PathBuf::from(path.split('?').next().unwrap_or(path)))
    }
}

/// The cases use cases assembled the way `wf_cases::build` does, plus the note key ring loaded
/// from the test's data folder (`sealing::note_keys`, the field key ring intake uses).
pub struct Assembled {
    /// The refusal recorder, its writer running until the test ends.
    pub refusals: wf_server::Refusals,
    pub api: wf_cases::CasesApi,
    pub events: wf_cases::CaseEvents,
    pub db: Db,
    pub config: wf_config::Config,
}

impl Assembled {
    pub async fn start(test: &TestDb, roster: &str) -> Assembled {
        let mut config = wf_config::Config::load(None, Some(test.dir.path())).expect("config");
        config.auto_migrate = true;
        test.db.migrate(&wf_cases::migrations()).await.expect("migrations");
        let roster = wf_cases::Roster::from_toml(roster).expect("roster");
        let bus = InProcessBus::new(test.db.clone());
        let ctx = ServiceContext::new(test.db.clone(), Arc::new(bus.clone()), Arc::new(config.clone()));
        wf_cases::store::roster::seed(&test.db, &roster, ctx.clock.now_micros()).await.expect("seed roster");
        let relay = Relay::new(wf_cases::SERVICE, test.db.clone(), Arc::new(bus), RelayOptions::default());
        let keys = wf_cases::app::sealing::note_keys(&config).expect("note keys");
        let refusals = ctx.refusals(wf_cases::SERVICE);
        let writer = refusals.clone();
        tokio::spawn(async move { writer.run(tokio_util::sync::CancellationToken::new()).await });
        let app = wf_cases::App::new(test.db.clone(), relay.handle(), ctx.clock.clone())
            .with_note_keys(Arc::new(keys))
            .with_refusals(refusals.clone());
        Assembled {
            refusals,
            api: wf_cases::CasesApi::new(app.clone()),
            events: wf_cases::CaseEvents::new(app),
            db: test.db.clone(),
            config,
        }
    }

    /// Delivers `referral.received`, then `referral.routed`, and returns the case opened.
    pub async fn open_case(&self, site: Site) -> (String, ReferralId) {
        let referral_id = ReferralId::generate();
        self.events.on_referral_received(&referral_received(&referral_id, site, false)).await.expect("received");
        match self.events.on_referral_routed(&referral_routed(&referral_id, site, false)).await.expect("routed") {
            RoutedOutcome::Opened { case_id, .. } => (case_id, referral_id),
            other => panic!("expected a new case, got {other:?}"),
        }
    }
}

/// The outbox rows of one event type, decoded.
pub async fn outbox_of<P: wf_events::EventPayload + Default>(db: &Db, event_type: &str) -> Vec<(Envelope, P)> {
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT envelope FROM event_outbox WHERE event_type = $1 ORDER BY id")
        .bind(event_type)
        .fetch_all(db.pool())
        .await
        .expect("outbox");
    rows.into_iter()
        .map(|(bytes,)| {
            let envelope = Envelope::decode(&bytes).expect("envelope");
            let payload = envelope.payload_as::<P>().expect("payload");
            (envelope, payload)
        })
        .collect()
}

/// The partner `referral_routed` routes to.
pub const ROUTED_PARTNER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d";

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

/// A `referral.routed` envelope as routing would publish it (to [`ROUTED_PARTNER`]).
pub fn referral_routed(referral_id: &ReferralId, site: Site, practice: bool) -> Envelope {
    referral_routed_to(referral_id, site, practice, ROUTED_PARTNER, 1)
}

/// A `referral.routed` to `partner_id`, routing attempt `attempt` (2+ after a decline or expiry).
pub fn referral_routed_to(
    referral_id: &ReferralId,
    site: Site,
    practice: bool,
    partner_id: &str,
    attempt: i32,
) -> Envelope {
    let payload = pb::ReferralRouted {
        referral_id: referral_id.to_string(),
        decision_id: wf_types::DecisionId::generate().to_string(),
        partner_id: partner_id.to_owned(),
        partner_service_id: "svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".to_owned(),
        triage_tier: TriageTier::Routine as i32,
        site: site as i32,
        policy_version: "demo-1".to_owned(),
        practice,
        reason: if attempt == 1 { "referral_received" } else { "offer_declined" }.to_owned(),
        attempt,
        ..Default::default()
    };
    Envelope::new("routing", referral_id.to_string(), referral_id.to_string(), &payload)
}

/// An `offer.accepted` envelope as routing would publish it: `partner_id` accepted an offer for
/// `referral_id`.
pub fn offer_accepted(referral_id: &ReferralId, partner_id: &str) -> Envelope {
    let payload = pb::OfferAccepted {
        offer_id: wf_types::OfferId::generate().to_string(),
        referral_id: referral_id.to_string(),
        partner_id: partner_id.to_owned(),
        partner_service_id: "svc_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".to_owned(),
        accepted_at: Some(wf_proto::time::timestamp_from_micros(1_767_225_600_000_000)),
        accepted_by: "usr_partner_staff".to_owned(),
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

    /// Delivers an `offer.accepted`: `partner_id` accepted the offer for `referral_id`.
    pub async fn accept(&self, referral_id: &ReferralId, partner_id: &str) {
        let accepted = offer_accepted(referral_id, partner_id);
        self.cases.event_handler().on_offer_accepted(&accepted).await.expect("offer.accepted handled");
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

/// A verified partner client of organization `partner_id`, as the auth interceptor would leave it.
pub fn request_as_partner<T>(partner_id: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.extensions_mut().insert(Principal {
        subject: "client_partner".to_owned(),
        role: Role::Partner,
        partner_id: Some(partner_id.to_owned()),
        kind: TokenKind::Partner,
        token_id: Uuid::new_v4().to_string(),
    });
    request
}

/// A verified staff user `subject` in `role`.
pub fn request_as_user<T>(role: Role, subject: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let kind = if role == Role::Service { TokenKind::Service } else { TokenKind::User };
    request.extensions_mut().insert(Principal {
        subject: subject.to_owned(),
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

/// `possible_match.confirmed`: staff confirmed that `referral_id`'s youth is `youth` (its provisional id was
/// `previous`).
pub fn confirmed(referral_id: &ReferralId, youth: &wf_types::YouthId, previous: &wf_types::YouthId) -> Envelope {
    let payload = pb::PossibleMatchConfirmed {
        possible_match_id: wf_types::PossibleMatchId::generate().to_string(),
        referral_id: referral_id.to_string(),
        youth_id: youth.to_string(),
        previous_youth_id: previous.to_string(),
        decided_by: "test-supervisor".into(),
        practice: false,
    };
    Envelope::new("intake", referral_id.to_string(), referral_id.to_string(), &payload)
}
