//! The cases service hosted by `wf_testkit::TestServer`: real tokens over gRPC, the in-process bus,
//! a settable clock, and a collector of everything cases publishes.

use std::sync::Arc;
use std::time::Duration;

use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, case_service_client::CaseServiceClient};
use wf_proto::common::v1::Site;
use wf_testkit::{AuthedChannel, Collector, Engine, TestDatabase, TestServer, eventually};
use wf_types::{ReferralId, TestClock, YouthId};

pub type Client = CaseServiceClient<AuthedChannel>;

/// Where a test's roster file is written, in the test's folder.
const ROSTER_FILE: &str = "roster.toml";

/// 2026-01-01T00:00:00Z: where test clocks start.
pub const START_MICROS: i64 = 1_767_225_600_000_000;

/// Everything cases publishes.
const PUBLISHED: &[&str] = &[
    "case.#",
    "case_note.#",
    "follow_up.#",
    "intervention.#",
    "service_plan.#",
    "recidivism.#",
    "roster.#",
    "contact_attempt.#",
];

/// A stopped service's database, still there.
pub struct Stopped {
    pub db: wf_db::Db,
    _database: TestDatabase,
}

pub struct Served {
    pub server: TestServer,
    pub db: wf_db::Db,
    pub clock: TestClock,
    collector: Collector,
    /// What was published before a restart (each server has a bus of its own).
    before_restarts: Vec<Envelope>,
    _database: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Served {
    pub async fn start(engine: Engine) -> Self {
        Self::start_with(engine, None).await
    }

    /// The service with `roster` (TOML, e.g. from `harness::roster`) instead of the demo roster.
    pub async fn start_with_roster(engine: Engine, roster: &str) -> Self {
        Self::start_with(engine, Some(roster)).await
    }

    async fn start_with(engine: Engine, roster: Option<&str>) -> Self {
        let database = TestDatabase::new(engine).await;
        let db = database.migrated(&wf_cases::migrations()).await;
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(roster) = roster {
            std::fs::write(dir.path().join(ROSTER_FILE), roster).expect("write roster");
        }
        let clock = TestClock::at_micros(START_MICROS);
        let (server, collector) = serve(&db, &dir, &clock).await;
        Self { server, db, clock, collector, before_restarts: Vec::new(), _database: database, _dir: dir }
    }

    /// Stops the service, sets the clock to `micros` while it is down, and builds it again on the
    /// same database, as a restart would.
    pub async fn restart_at(self, micros: i64) -> Self {
        let Served { server, db, clock, collector, mut before_restarts, _database, _dir } = self;
        server.stop().await;
        before_restarts.extend(collector.finish().await);
        clock.set_micros(micros);
        let (server, collector) = serve(&db, &_dir, &clock).await;
        Self { server, db, clock, collector, before_restarts, _database, _dir }
    }

    /// Stops the service, waits for its workers to finish, and keeps its database to look at.
    pub async fn stop(self) -> Stopped {
        self.server.stop().await;
        Stopped { db: self.db, _database: self._database }
    }

    pub async fn client(&self, role: Role) -> Client {
        CaseServiceClient::new(self.server.channel(&self.server.tokens.user(role)).await)
    }

    pub async fn partner(&self, partner_id: &str) -> Client {
        CaseServiceClient::new(self.server.channel(&self.server.tokens.partner(partner_id)).await)
    }

    /// Publishes a `referral.routed` and the routed partner's `offer.accepted` (that partner,
    /// `harness::ROUTED_PARTNER`, serves the case), and returns the case opened.
    pub async fn open_case(&self, site: Site) -> String {
        let referral_id = ReferralId::generate();
        self.server.publish(&crate::harness::referral_received(&referral_id, site, false)).await;
        self.server.publish(&crate::harness::referral_routed(&referral_id, site, false)).await;
        self.server.publish(&crate::harness::offer_accepted(&referral_id, crate::harness::ROUTED_PARTNER)).await;
        case_of(&mut self.client(Role::Supervisor).await, &referral_id).await.case_id
    }

    /// Waits (bounded) until `count` events matching `filter` were published, and returns them all
    /// in the order they were written (event ids are UUIDv7): the relay publishes a batch
    /// concurrently, so arrival order is not write order.
    pub async fn published(&self, count: usize, filter: impl Fn(&Envelope) -> bool) -> Vec<Envelope> {
        let matching = || -> Vec<Envelope> {
            let mut found: Vec<Envelope> =
                self.before_restarts.iter().cloned().chain(self.collector.events()).filter(|e| filter(e)).collect();
            found.sort_by_key(|e| e.event_id);
            found
        };
        let enough = eventually(Duration::from_secs(30), || async { matching().len() >= count }).await;
        let found = matching();
        assert!(enough, "{} of {count} events published", found.len());
        found
    }
}

/// The one case of `referral_id`.
pub async fn case_of(client: &mut Client, referral_id: &ReferralId) -> pb::Case {
    let cases = client
        .list_cases(pb::ListCasesRequest { referral_id: referral_id.to_string(), ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .cases;
    assert_eq!(cases.len(), 1, "{referral_id}");
    cases[0].clone()
}

/// The recidivism events recorded for a youth, across their cases.
pub async fn recidivism_of(client: &mut Client, youth: &YouthId) -> Vec<pb::RecidivismEvent> {
    let request = pb::ListRecidivismEventsRequest { youth_id: youth.to_string(), ..Default::default() };
    client.list_recidivism_events(request).await.expect("list recidivism events").into_inner().events
}

/// Closes the case: the youth met their goals.
pub async fn close(client: &mut Client, case_id: &str) {
    let request = pb::CloseCaseRequest {
        case_id: case_id.to_owned(),
        reason: CaseClosureReason::GoalsMet as i32,
        ..Default::default()
    };
    client.close_case(request).await.expect("close");
}

async fn serve(db: &wf_db::Db, dir: &tempfile::TempDir, clock: &TestClock) -> (TestServer, Collector) {
    let roster = dir.path().join(ROSTER_FILE);
    let server = TestServer::start_with_clock(db.clone(), dir.path(), clock.shared(), |mut ctx| async move {
        if roster.exists() {
            let mut config = (*ctx.config).clone();
            config.roster_file = Some(roster);
            ctx.config = Arc::new(config);
        }
        let options = wf_cases::Options { follow_up_interval: Duration::from_millis(50) };
        Ok(wf_cases::build_with(ctx, options).await? as Arc<dyn wf_server::Component>)
    })
    .await;
    let collector = server.collector("collector", PUBLISHED).await;
    (server, collector)
}
