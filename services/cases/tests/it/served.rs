//! The cases service hosted by `wf_testkit::TestServer`: real tokens over gRPC, the in-process bus,
//! a settable clock, and a collector of everything cases publishes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wf_auth::Role;
use wf_cases::clock::TestClock;
use wf_events::{Envelope, EventBus, EventHandler, HandleError, Subscription};
use wf_proto::cases::v1::{self as pb, case_service_client::CaseServiceClient};
use wf_proto::common::v1::Site;
use wf_testkit::{AuthedChannel, Engine, TestDatabase, TestServer};
use wf_types::ReferralId;

pub type Client = CaseServiceClient<AuthedChannel>;

/// Where a test's roster file is written, in the test's folder.
const ROSTER_FILE: &str = "roster.toml";

/// 2026-01-01T00:00:00Z: where test clocks start.
pub const START_MICROS: i64 = 1_767_225_600_000_000;

pub struct Served {
    pub server: TestServer,
    pub db: wf_db::Db,
    pub clock: TestClock,
    captured: Arc<Mutex<Vec<Envelope>>>,
    _database: TestDatabase,
    _dir: tempfile::TempDir,
}

struct Collector(Arc<Mutex<Vec<Envelope>>>);

#[async_trait::async_trait]
impl EventHandler for Collector {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        self.0.lock().expect("lock").push(envelope);
        Ok(())
    }
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
        let clock = TestClock::at(START_MICROS);
        let captured = Arc::new(Mutex::new(Vec::new()));
        let server = serve(&db, &dir, &clock, &captured).await;
        Self { server, db, clock, captured, _database: database, _dir: dir }
    }

    /// Stops the service, sets the clock to `micros` while it is down, and builds it again on the
    /// same database, as a restart would.
    pub async fn restart_at(self, micros: i64) -> Self {
        let Served { server, db, clock, captured, _database, _dir } = self;
        server.stop().await;
        clock.set(micros);
        let server = serve(&db, &_dir, &clock, &captured).await;
        Self { server, db, clock, captured, _database, _dir }
    }

    pub async fn client(&self, role: Role) -> Client {
        CaseServiceClient::new(self.server.channel(&self.server.tokens.user(role)).await)
    }

    pub async fn partner(&self, partner_id: &str) -> Client {
        CaseServiceClient::new(self.server.channel(&self.server.tokens.partner(partner_id)).await)
    }

    /// Publishes a `referral.routed` and returns the case it opened.
    pub async fn open_case(&self, site: Site) -> String {
        let referral_id = ReferralId::generate();
        self.server.publish(&crate::harness::referral_received(&referral_id, site, false)).await;
        self.server.publish(&crate::harness::referral_routed(&referral_id, site, false)).await;
        let mut client = self.client(Role::Supervisor).await;
        let cases = client
            .list_cases(pb::ListCasesRequest { referral_id: referral_id.to_string(), ..Default::default() })
            .await
            .expect("list cases")
            .into_inner()
            .cases;
        assert_eq!(cases.len(), 1, "one case for the routed referral");
        cases[0].case_id.clone()
    }

    /// Waits (bounded) until `count` events matching `filter` were published, and returns them all.
    pub async fn published(&self, count: usize, filter: impl Fn(&Envelope) -> bool) -> Vec<Envelope> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let found: Vec<Envelope> =
                self.captured.lock().expect("lock").iter().filter(|e| filter(e)).cloned().collect();
            if found.len() >= count {
                return found;
            }
            assert!(tokio::time::Instant::now() < deadline, "{} of {count} events published", found.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn serve(
    db: &wf_db::Db,
    dir: &tempfile::TempDir,
    clock: &TestClock,
    captured: &Arc<Mutex<Vec<Envelope>>>,
) -> TestServer {
    let clock = clock.clone();
    let roster = dir.path().join(ROSTER_FILE);
    let server = TestServer::start(db.clone(), dir.path(), |mut ctx| async move {
        if roster.exists() {
            let mut config = (*ctx.config).clone();
            config.roster_file = Some(roster);
            ctx.config = Arc::new(config);
        }
        let options = wf_cases::Options { clock: Arc::new(clock), follow_up_interval: Duration::from_millis(50) };
        Ok(wf_cases::build_with(ctx, options).await? as Arc<dyn wf_server::Component>)
    })
    .await;
    let collector = Subscription::new(
        "collector",
        &[
            "case.#",
            "case_note.#",
            "follow_up.#",
            "intervention.#",
            "service_plan.#",
            "recidivism.#",
            "roster.#",
            "contact_attempt.#",
        ],
    );
    server.bus.declare(&collector).await.expect("declare collector");
    let bus = server.bus.clone();
    let handler = Arc::new(Collector(captured.clone()));
    tokio::spawn(async move { bus.consume(collector, handler, CancellationToken::new()).await });
    server
}
