//! One test body, two backends: each test gets a fresh SQLite file or a fresh PostgreSQL
//! database, a cases service built on it with an in-process bus, and a collector queue.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use wf_auth::{Principal, Role, TokenKind};
use wf_db::{Backend, Db, DbOptions};
use wf_events::{Envelope, EventBus, EventHandler, HandleError, InProcessBus, Relay, RelayOptions, Subscription};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::events::v1 as pb;
use wf_server::ServiceContext;
use wf_types::ReferralId;

/// Runs `body` once on SQLite and once on PostgreSQL, as two tests.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crate::harness::on_sqlite(super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                crate::harness::on_postgres(super::$name).await;
            }
        })*
    };
}
pub(crate) use both_backends;

/// A fresh, empty database for one test.
pub struct TestDb {
    pub db: Db,
    pub dir: PathBuf,
}

fn admin_url() -> String {
    std::env::var("WF_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wf-cases-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = scratch_dir();
    let db = Db::connect(&wf_db::sqlite_url_in(&dir, "cases.db")).await.expect("open sqlite");
    let outcome = tokio::spawn(body(TestDb { db: db.clone(), dir: dir.clone() })).await;
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

pub async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = admin_url();
    let admin = connect_with_retries(&admin_url, 1).await;
    let name = format!("t_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(admin.pool()).await.expect("create database");
    let mut url = url::Url::parse(&admin_url).expect("admin url");
    url.set_path(&name);
    let db = connect_with_retries(url.as_str(), 5).await;
    assert_eq!(db.backend(), Backend::Postgres);
    let dir = scratch_dir();
    let outcome = tokio::spawn(body(TestDb { db: db.clone(), dir: dir.clone() })).await;
    db.close().await;
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).execute(admin.pool()).await.expect("drop database");
    admin.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// The PostgreSQL server is shared with other suites running at the same time: keep pools small
/// and ride out a moment of "too many clients".
async fn connect_with_retries(url: &str, max_connections: u32) -> Db {
    let options = DbOptions { max_connections, acquire_timeout: Duration::from_secs(30) };
    let mut attempt = 0;
    loop {
        match Db::connect_with(url, options.clone()).await {
            Ok(db) => return db,
            Err(err) if attempt < 20 => {
                attempt += 1;
                eprintln!("connecting to the test database failed ({err}), retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => panic!("cannot connect to the test PostgreSQL server: {err}"),
        }
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
        let mut config = wf_config::Config::load(None, Some(&test.dir)).expect("config");
        config.auto_migrate = true;
        config.roster_file = roster.map(|text| {
            let path = test.dir.join("roster.toml");
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
        let subscription = Subscription::new("collector", &["case.#"]);
        self.bus.declare(&subscription).await.expect("declare collector");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(Collecting(seen.clone()));
        let shutdown = CancellationToken::new();
        let bus = self.bus.clone();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            bus.consume(subscription, handler, token).await.expect("collector consumes");
        });
        Collector { seen, shutdown, task }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let (count,): (i64,) = sqlx::query_as(sql).fetch_one(self.db.pool()).await.expect(sql);
        count
    }
}

struct Collecting(Arc<Mutex<Vec<Envelope>>>);

#[async_trait::async_trait]
impl EventHandler for Collecting {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        self.0.lock().unwrap().push(envelope);
        Ok(())
    }
}

pub struct Collector {
    seen: Arc<Mutex<Vec<Envelope>>>,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Collector {
    /// Stops consuming and returns everything received.
    pub async fn finish(self) -> Vec<Envelope> {
        self.shutdown.cancel();
        self.task.await.expect("collector task");
        let seen = self.seen.lock().unwrap();
        seen.clone()
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
