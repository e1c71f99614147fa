//! Service control, per-test resources, the effect-applying consumer and the history.

use std::collections::HashSet;
use std::future::Future;
use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use lapin::{Connection, ConnectionProperties};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use wf_db::{Backend, Db, DbError, DbOptions, MigrationSet};
use wf_events::{
    Backoff, BusError, Envelope, EventBus, EventHandler, HandleError, RabbitBus, RabbitConfig, Relay, RelayOptions,
    Subscription,
};
use wf_telemetry::TraceContext;
pub use wf_testkit::ready_count;
use wf_testkit::{TestBroker, TestDatabase, amqp_url, postgres_url};

/// The consuming service of every fault test.
pub const CONSUMER: &str = "consumer";
/// The only event type the tests publish; the subscription binds exactly this key.
pub const EVENT_TYPE: &str = "referral.received";

const SERVICE_TIMEOUT: Duration = Duration::from_secs(120);

fn host_port(url: &str, default_port: u16) -> (String, u16) {
    let url = url::Url::parse(url).expect("service url");
    (url.host_str().unwrap_or("127.0.0.1").to_owned(), url.port().unwrap_or(default_port))
}

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

// ---------------------------------------------------------------------------------------------
// Service control. Async variants for the test body (the runtime keeps running the relay and the
// consumer during the outage); blocking variants for the guard's Drop.
// ---------------------------------------------------------------------------------------------

const PG_CTL: &str = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main";

async fn run_async(program: &str, args: &[&str]) -> Result<(), String> {
    let output = tokio::process::Command::new(program).args(args).output().await;
    succeeded(program, args, output)
}

fn run_blocking(program: &str, args: &[&str]) -> Result<(), String> {
    succeeded(program, args, Command::new(program).args(args).output())
}

/// Ok when the command ran and exited 0; else what went wrong, with everything it printed.
fn succeeded(program: &str, args: &[&str], output: std::io::Result<std::process::Output>) -> Result<(), String> {
    let output = output.map_err(|err| format!("{program} {args:?}: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?} exited with {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

pub async fn rabbit_stop() -> Result<(), String> {
    run_async("rabbitmqctl", &["stop_app"]).await
}

pub async fn rabbit_start() -> Result<(), String> {
    run_async("rabbitmqctl", &["start_app"]).await?;
    run_async("rabbitmqctl", &["await_startup", "--timeout", "120"]).await
}

pub async fn postgres_restart() -> Result<(), String> {
    run_async("sh", &["-c", &format!("{PG_CTL} restart")]).await
}

/// Polls `pg_isready` until PostgreSQL stops accepting connections (a restart is under way).
pub async fn wait_until_postgres_refuses(timeout: Duration) -> bool {
    let (host, port) = host_port(&postgres_url(), 5432);
    let port = port.to_string();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let ready = tokio::process::Command::new("pg_isready")
            .args(["-h", host.as_str(), "-p", port.as_str(), "-t", "1"])
            .output()
            .await
            .map(|out| out.status.success())
            .unwrap_or(true);
        if !ready {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Polls until an AMQP connection (with a channel) succeeds.
pub async fn wait_for_rabbit(timeout: Duration) -> Result<Duration, String> {
    wait_for("RabbitMQ", timeout, || async {
        let conn = Connection::connect(&amqp_url(), ConnectionProperties::default()).await?;
        let channel = conn.create_channel().await?;
        let _ = channel.close(200, "OK".into()).await;
        let _ = conn.close(200, "OK".into()).await;
        Ok::<_, lapin::Error>(())
    })
    .await
}

/// Polls until a query on the `test` database succeeds.
pub async fn wait_for_postgres(timeout: Duration) -> Result<Duration, String> {
    wait_for("PostgreSQL", timeout, || async {
        let db = Db::connect_with(
            &postgres_url(),
            DbOptions { max_connections: 1, acquire_timeout: Duration::from_secs(2) },
        )
        .await?;
        let result = db.ping().await;
        db.close().await;
        result
    })
    .await
}

/// Tries `attempt` (5 s at most each time) every 200 ms until it succeeds; how long that took, or
/// the last error once `timeout` has passed.
async fn wait_for<F, Fut, E>(what: &str, timeout: Duration, mut attempt: F) -> Result<Duration, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < timeout {
        match tokio::time::timeout(Duration::from_secs(5), attempt()).await {
            Ok(Ok(())) => return Ok(started.elapsed()),
            Ok(Err(err)) => last = err.to_string(),
            Err(_) => last = "connect timed out".to_owned(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("{what} did not answer within {timeout:?}: {last}"))
}

/// Whether the broker's AMQP listener answers a protocol header with `connection.start`.
fn rabbit_answers_blocking() -> bool {
    let (host, port) = host_port(&amqp_url(), 5672);
    let Some(addr) = (host.as_str(), port).to_socket_addrs().ok().and_then(|mut a| a.next()) else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let mut header = [0u8; 7];
    stream.write_all(b"AMQP\x00\x00\x09\x01").is_ok() && stream.read_exact(&mut header).is_ok() && header[0] == 1
}

fn postgres_answers_blocking() -> bool {
    let (host, port) = host_port(&postgres_url(), 5432);
    run_blocking("pg_isready", &["-h", &host, "-p", &port.to_string(), "-t", "2"]).is_ok()
}

fn poll_blocking(what: &str, check: fn() -> bool) {
    let started = Instant::now();
    while started.elapsed() < SERVICE_TIMEOUT {
        if check() {
            eprintln!("[guard] {what} answers again after {:?}", started.elapsed());
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    eprintln!("[guard] {what} still does not answer after {SERVICE_TIMEOUT:?}");
}

/// Brings both services back (blocking), whatever state a failed test left them in.
fn heal_blocking(rabbit_flagged: bool, postgres_flagged: bool) {
    if rabbit_flagged || !rabbit_answers_blocking() {
        eprintln!("[guard] RabbitMQ may be stopped: start_app");
        if let Err(err) = run_blocking("rabbitmqctl", &["start_app"]) {
            eprintln!("[guard] {err}");
        }
        if let Err(err) = run_blocking("rabbitmqctl", &["await_startup", "--timeout", "120"]) {
            eprintln!("[guard] {err}");
        }
        poll_blocking("RabbitMQ", rabbit_answers_blocking);
    }
    if postgres_flagged || !postgres_answers_blocking() {
        // A restart in progress when the test failed may still finish on its own.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) && !postgres_answers_blocking() {
            std::thread::sleep(Duration::from_millis(250));
        }
        if !postgres_answers_blocking() {
            eprintln!("[guard] PostgreSQL does not answer: start");
            if let Err(err) = run_blocking("sh", &["-c", &format!("{PG_CTL} start")]) {
                eprintln!("[guard] {err}");
            }
        }
        poll_blocking("PostgreSQL", postgres_answers_blocking);
    }
}

// ---------------------------------------------------------------------------------------------
// The guard: services up again and test resources removed, even when the test panics.
// ---------------------------------------------------------------------------------------------

/// The test's own databases and broker prefix (wf-testkit), removed by the guard once both services
/// answer again.
#[derive(Default)]
struct Resources {
    broker: Option<TestBroker>,
    databases: Vec<TestDatabase>,
}

pub struct FaultGuard {
    rabbit_down: AtomicBool,
    postgres_down: AtomicBool,
    resources: std::sync::Mutex<Resources>,
    finished: AtomicBool,
}

impl FaultGuard {
    /// Waits for both services (a previous test may have left them restarting).
    pub async fn new() -> Arc<Self> {
        init_tracing();
        wait_for_rabbit(SERVICE_TIMEOUT).await.expect("RabbitMQ is up before the test");
        wait_for_postgres(SERVICE_TIMEOUT).await.expect("PostgreSQL is up before the test");
        Arc::new(Self {
            rabbit_down: AtomicBool::new(false),
            postgres_down: AtomicBool::new(false),
            resources: std::sync::Mutex::new(Resources::default()),
            finished: AtomicBool::new(false),
        })
    }

    pub fn rabbit_outage(&self, down: bool) {
        self.rabbit_down.store(down, Ordering::SeqCst);
    }

    pub fn postgres_outage(&self, down: bool) {
        self.postgres_down.store(down, Ordering::SeqCst);
    }

    fn keep_database(&self, database: TestDatabase) {
        self.resources.lock().unwrap_or_else(|e| e.into_inner()).databases.push(database);
    }

    fn keep_broker(&self, broker: TestBroker) {
        self.resources.lock().unwrap_or_else(|e| e.into_inner()).broker = Some(broker);
    }

    /// Normal end of a test: both services answer, queues, exchanges and databases are removed.
    pub async fn finish(&self) {
        assert!(!self.rabbit_down.load(Ordering::SeqCst), "RabbitMQ outage still flagged at the end");
        assert!(!self.postgres_down.load(Ordering::SeqCst), "PostgreSQL outage still flagged at the end");
        wait_for_rabbit(SERVICE_TIMEOUT).await.expect("RabbitMQ answers at the end");
        wait_for_postgres(SERVICE_TIMEOUT).await.expect("PostgreSQL answers at the end");
        let resources = std::mem::take(&mut *self.resources.lock().unwrap_or_else(|e| e.into_inner()));
        remove_resources(resources).await.expect("remove the test's queues, exchanges and databases");
        self.finished.store(true, Ordering::SeqCst);
    }
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        if self.finished.load(Ordering::SeqCst) {
            return;
        }
        eprintln!("[guard] test ended early: healing services and removing its resources");
        heal_blocking(self.rabbit_down.load(Ordering::SeqCst), self.postgres_down.load(Ordering::SeqCst));
        let resources = std::mem::take(&mut *self.resources.lock().unwrap_or_else(|e| e.into_inner()));
        // A runtime of its own on a thread of its own: this may run inside a panicking runtime.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                match tokio::time::timeout(Duration::from_secs(60), remove_resources(resources)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => eprintln!("[guard] cleanup: {err}"),
                    Err(_) => eprintln!("[guard] cleanup timed out"),
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn remove_resources(resources: Resources) -> Result<(), String> {
    if let Some(broker) = resources.broker {
        broker.remove().await.map_err(|e| e.to_string())?;
    }
    for database in resources.databases {
        database.remove().await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Per-test databases and topology.
// ---------------------------------------------------------------------------------------------

/// Creates a database of its own with the wf-events migrations (plus `extra` DDL).
pub async fn create_database(guard: &FaultGuard, extra: &[&str]) -> Db {
    let database = TestDatabase::postgres().await;
    let url = database.url().to_owned();
    guard.keep_database(database);
    let db = Db::connect(&url).await.expect("connect to the new database");
    let (pg, sqlite) = wf_events::migrations();
    db.migrate(&MigrationSet::new().with(pg, sqlite)).await.expect("wf-events migrations");
    for ddl in extra {
        sqlx::query(ddl).execute(db.pool()).await.expect(ddl);
    }
    db
}

/// The test's exchanges and queue prefix (`t{id}.events`, `t{id}`).
pub fn rabbit_config(guard: &FaultGuard) -> RabbitConfig {
    let mut broker = TestBroker::new(&[CONSUMER]);
    // Reconnect within seconds of the broker coming back (production waits up to 30 s).
    broker.config.reconnect_backoff = Backoff { initial: Duration::from_millis(200), max: Duration::from_secs(2) };
    let cfg = broker.config.clone();
    guard.keep_broker(broker);
    cfg
}

pub fn subscription() -> Subscription {
    Subscription::new(CONSUMER, &[EVENT_TYPE])
}

pub fn envelope() -> Envelope {
    let event_id = Uuid::now_v7();
    Envelope {
        event_id,
        event_type: EVENT_TYPE.to_owned(),
        occurred_at: Utc::now(),
        aggregate_id: format!("agg_{}", event_id.simple()),
        producer: "fault".to_owned(),
        schema_version: 1,
        trace: TraceContext::default(),
        correlation_id: String::new(),
        payload: vec![8, 1],
    }
}

// ---------------------------------------------------------------------------------------------
// The consumer: inbox row and effect in one transaction.
// ---------------------------------------------------------------------------------------------

pub const EFFECT_DDL: &str = "CREATE TABLE effect (event_id TEXT PRIMARY KEY, applied INTEGER NOT NULL)";

#[derive(Default)]
pub struct Counters {
    /// Handler invocations (deliveries).
    pub calls: AtomicU64,
    /// Deliveries the inbox recognised as already applied.
    pub duplicates_skipped: AtomicU64,
    /// Handler invocations that returned an error (retried by the bus).
    pub failures: AtomicU64,
    /// Handler invocations that have not returned yet.
    pub in_progress: AtomicU64,
}

pub struct EffectHandler {
    pub db: Db,
    pub counters: Arc<Counters>,
}

#[async_trait::async_trait]
impl EventHandler for EffectHandler {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        self.counters.in_progress.fetch_add(1, Ordering::SeqCst);
        let result = async {
            let mut tx = self.db.begin().await?;
            if wf_events::inbox::record(&mut tx, CONSUMER, &envelope).await? {
                sqlx::query(
                    "INSERT INTO effect (event_id, applied) VALUES ($1, 1) \
                     ON CONFLICT (event_id) DO UPDATE SET applied = effect.applied + 1",
                )
                .bind(envelope.event_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(DbError::from)?;
            } else {
                self.counters.duplicates_skipped.fetch_add(1, Ordering::Relaxed);
            }
            tx.commit().await.map_err(DbError::from)?;
            Ok::<_, HandleError>(())
        }
        .await;
        self.counters.in_progress.fetch_sub(1, Ordering::SeqCst);
        if let Err(err) = &result {
            let n = self.counters.failures.fetch_add(1, Ordering::Relaxed);
            if n < 20 {
                eprintln!("[consumer] handler failed for {}: {err}", envelope.event_id);
            }
        }
        result
    }
}

// ---------------------------------------------------------------------------------------------
// Relay and consumer tasks.
// ---------------------------------------------------------------------------------------------

pub struct Running<T> {
    pub shutdown: CancellationToken,
    pub task: JoinHandle<T>,
}

impl<T> Running<T> {
    pub async fn stop(self, what: &str) -> T {
        self.shutdown.cancel();
        match tokio::time::timeout(Duration::from_secs(60), self.task).await {
            Ok(result) => result.unwrap_or_else(|err| panic!("{what} task: {err}")),
            Err(_) => {
                eprintln!(
                    "[stop] {what} did not stop within 60 s of shutdown; tokio tasks alive: {}; broker state:\n{}",
                    tokio::runtime::Handle::current().metrics().num_alive_tasks(),
                    broker_snapshot().await
                );
                panic!("{what} stops within 60 s of shutdown");
            }
        }
    }
}

/// Connections, channels, consumers and queues as the broker sees them (for failure reports).
pub async fn broker_snapshot() -> String {
    let mut out = String::new();
    for args in [
        &["list_connections", "name", "state", "channels", "client_properties"][..],
        &["list_channels", "connection", "number", "consumer_count", "messages_unacknowledged", "confirm"],
        &["list_consumers", "queue_name", "channel_pid", "consumer_tag", "ack_required", "prefetch_count"],
        &["list_queues", "name", "type", "messages_ready", "messages_unacknowledged", "consumers"],
    ] {
        let result = tokio::process::Command::new("rabbitmqctl").args(args).arg("--no-table-headers").output().await;
        out.push_str(&format!("$ rabbitmqctl {}\n", args.join(" ")));
        match result {
            Ok(output) => {
                out.push_str(&String::from_utf8_lossy(&output.stdout));
                out.push_str(&String::from_utf8_lossy(&output.stderr));
            }
            Err(err) => out.push_str(&format!("{err}\n")),
        }
    }
    out
}

pub fn spawn_relay(producer: &Db, bus: &RabbitBus) -> (Running<()>, wf_events::RelayHandle) {
    let relay = Relay::new(
        "fault",
        producer.clone(),
        Arc::new(bus.clone()),
        RelayOptions { batch_size: 200, ..RelayOptions::default() },
    );
    let handle = relay.handle();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(relay.run(shutdown.clone()));
    (Running { shutdown, task }, handle)
}

pub fn spawn_consumer(bus: &RabbitBus, handler: Arc<EffectHandler>) -> Running<Result<(), BusError>> {
    let shutdown = CancellationToken::new();
    let bus = bus.clone();
    let token = shutdown.clone();
    let task = tokio::spawn(async move { bus.consume(subscription(), handler, token).await });
    Running { shutdown, task }
}

// ---------------------------------------------------------------------------------------------
// The pipeline under test: producer database → relay → broker → consumer → consumer database.
// ---------------------------------------------------------------------------------------------

pub struct Pipeline {
    pub producer: Db,
    pub consumer_db: Db,
    pub cfg: RabbitConfig,
    pub bus: RabbitBus,
    pub counters: Arc<Counters>,
    pub relay_handle: wf_events::RelayHandle,
    relay: Running<()>,
    consumer: Running<Result<(), BusError>>,
    /// Last, so that a failing test drops it (healing the services) after everything else.
    pub guard: Arc<FaultGuard>,
}

impl Pipeline {
    /// Databases and a broker prefix of the test's own; the consumer and the relay running. Both are
    /// started once: they must ride out the faults on their own.
    pub async fn start() -> Self {
        let guard = FaultGuard::new().await;
        let producer = create_database(&guard, &[]).await;
        let consumer_db = create_database(&guard, &[EFFECT_DDL]).await;
        let cfg = rabbit_config(&guard);
        let bus = RabbitBus::connect(cfg.clone()).await.expect("connect to RabbitMQ");
        bus.declare(&subscription()).await.expect("declare the subscription");

        let counters = Arc::new(Counters::default());
        let handler = Arc::new(EffectHandler { db: consumer_db.clone(), counters: counters.clone() });
        let consumer = spawn_consumer(&bus, handler);
        let (relay, relay_handle) = spawn_relay(&producer, &bus);
        Self { producer, consumer_db, cfg, bus, counters, relay_handle, relay, consumer, guard }
    }

    /// Once every write has committed: waits until all `expected` effects are applied and all is quiet,
    /// stops the relay and the consumer, and checks the history: nothing lost, nothing applied twice,
    /// nothing left in the queue or dead-lettered. `fault` describes the fault for the result line.
    pub async fn drain_and_check(self, history: &History, expected: usize, started: Instant, fault: &str) {
        // The guard first: on a failure it is dropped last, after everything that uses the services.
        let Self { guard, producer, consumer_db, cfg, bus, counters, relay, consumer, .. } = self;
        wait_for_effects(&producer, &consumer_db, &counters, expected as i64, Duration::from_secs(180), started).await;
        wait_for_quiet(&producer, &cfg, &counters, Duration::from_secs(60)).await;
        relay.stop("relay").await;
        eprintln!(
            "[stop] handlers in progress before stopping the consumer: {}",
            counters.in_progress.load(Ordering::SeqCst)
        );
        consumer.stop("consumer").await.expect("consume returns Ok on shutdown");
        // Anything unacked returns to the queue once the consumer's channel is closed.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let queue_ready = ready_count(&cfg, &cfg.queue_name(CONSUMER)).await;
        let dead_letters = ready_count(&cfg, &cfg.dead_letter_queue_name(CONSUMER)).await;

        let verdict = Verdict::compute(history, &producer, &consumer_db).await;
        verdict.print(&counters, history);
        eprintln!(
            "[result] t={:.1}s {fault} queue_ready={queue_ready} dead_letters={dead_letters}",
            started.elapsed().as_secs_f64()
        );
        verdict.assert_clean(expected);
        let max_applied: Option<i32> =
            sqlx::query_scalar("SELECT MAX(applied) FROM effect").fetch_one(consumer_db.pool()).await.expect("max");
        assert_eq!(max_applied, Some(1), "every effect applied exactly once");
        assert_eq!(queue_ready, 0, "the queue is empty after the consumer stopped");
        assert_eq!(dead_letters, 0, "no dead letters");

        bus.close().await;
        producer.close().await;
        consumer_db.close().await;
        guard.finish().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Producer writes and the history.
// ---------------------------------------------------------------------------------------------

/// Outcome of every submitted event (one outbox row), Jepsen style.
#[derive(Debug, Default)]
pub struct History {
    pub invoked: HashSet<Uuid>,
    /// Committed: the producer was told the event exists.
    pub ok: HashSet<Uuid>,
    /// Definitely not written (failed before commit); retried.
    pub failed_attempts: u64,
    /// Commit outcome unknown (connection lost during commit); retried.
    pub unknown_attempts: u64,
}

/// Writes `events` in transactions of `batch`, retrying each transaction until it commits
/// (up to `retry_for`). A retry that hits the event's unique key proves an earlier
/// "unknown" commit went through.
pub async fn write_events(
    db: &Db,
    relay: &wf_events::RelayHandle,
    events: &[Envelope],
    batch: usize,
    retry_for: Duration,
    history: &mut History,
) -> Result<(), String> {
    for chunk in events.chunks(batch) {
        history.invoked.extend(chunk.iter().map(|e| e.event_id));
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match write_chunk(db, chunk).await {
                Ok(()) => {
                    history.ok.extend(chunk.iter().map(|e| e.event_id));
                    relay.wake();
                    break;
                }
                Err(WriteError::AlreadyCommitted) => {
                    eprintln!("[producer] retry found batch already committed (earlier unknown outcome)");
                    history.ok.extend(chunk.iter().map(|e| e.event_id));
                    break;
                }
                Err(err) => {
                    match err {
                        WriteError::Unknown(_) => history.unknown_attempts += 1,
                        _ => history.failed_attempts += 1,
                    }
                    if started.elapsed() > retry_for {
                        return Err(format!("a batch could not be written within {retry_for:?}: {err}"));
                    }
                    if attempt <= 3 || attempt.is_multiple_of(10) {
                        eprintln!("[producer] write attempt {attempt} failed, retrying: {err}");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
    Ok(())
}

#[derive(Debug)]
enum WriteError {
    Failed(String),
    Unknown(String),
    AlreadyCommitted,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Failed(err) => write!(f, "failed before commit: {err}"),
            WriteError::Unknown(err) => write!(f, "commit outcome unknown: {err}"),
            WriteError::AlreadyCommitted => write!(f, "already committed"),
        }
    }
}

async fn write_chunk(db: &Db, chunk: &[Envelope]) -> Result<(), WriteError> {
    let mut tx = db.begin().await.map_err(|e| WriteError::Failed(e.to_string()))?;
    for envelope in chunk {
        match wf_events::outbox::enqueue(&mut tx, Backend::Postgres, envelope).await {
            Ok(()) => {}
            Err(DbError::UniqueViolation { .. }) => return Err(WriteError::AlreadyCommitted),
            Err(err) => return Err(WriteError::Failed(err.to_string())),
        }
    }
    tx.commit().await.map_err(|e| WriteError::Unknown(e.to_string()))
}

pub async fn scalar_i64(db: &Db, sql: &str) -> i64 {
    let (value,): (i64,) = sqlx::query_as(sql).fetch_one(db.pool()).await.expect(sql);
    value
}

pub async fn effects_count(db: &Db) -> i64 {
    scalar_i64(db, "SELECT COUNT(*) FROM effect").await
}

pub async fn unsent_count(db: &Db) -> i64 {
    wf_events::outbox::pending_count(db).await.expect("outbox pending count")
}

/// Final accounting of one run.
#[derive(Debug)]
pub struct Verdict {
    pub attempted: usize,
    pub acknowledged: usize,
    pub published: i64,
    pub publish_attempts: i64,
    pub effects: usize,
    pub lost: Vec<String>,
    pub unexpected: Vec<String>,
    pub duplicated: Vec<(String, i32)>,
    pub unsent: i64,
    pub inbox_rows: i64,
}

impl Verdict {
    pub async fn compute(history: &History, producer: &Db, consumer: &Db) -> Self {
        let outbox: Vec<(String, Option<i64>, i32)> =
            sqlx::query_as("SELECT event_id, sent_at, attempts FROM event_outbox")
                .fetch_all(producer.pool())
                .await
                .expect("read outbox");
        let effects: Vec<(String, i32)> =
            sqlx::query_as("SELECT event_id, applied FROM effect").fetch_all(consumer.pool()).await.expect("effects");
        let effect_ids: HashSet<&str> = effects.iter().map(|(id, _)| id.as_str()).collect();
        let invoked: HashSet<String> = history.invoked.iter().map(Uuid::to_string).collect();
        let mut lost: Vec<String> =
            history.ok.iter().map(Uuid::to_string).filter(|id| !effect_ids.contains(id.as_str())).collect();
        lost.sort();
        let mut unexpected: Vec<String> =
            effect_ids.iter().filter(|id| !invoked.contains(**id)).map(|id| (*id).to_owned()).collect();
        unexpected.sort();
        let duplicated: Vec<(String, i32)> = effects.iter().filter(|(_, n)| *n != 1).cloned().collect();
        Self {
            attempted: history.invoked.len(),
            acknowledged: history.ok.len(),
            published: outbox.iter().filter(|(_, sent, _)| sent.is_some()).count() as i64,
            publish_attempts: outbox.iter().map(|(_, _, attempts)| i64::from(*attempts)).sum(),
            effects: effects.len(),
            lost,
            unexpected,
            duplicated,
            unsent: outbox.iter().filter(|(_, sent, _)| sent.is_none()).count() as i64,
            inbox_rows: scalar_i64(consumer, "SELECT COUNT(*) FROM event_inbox").await,
        }
    }

    pub fn print(&self, counters: &Counters, history: &History) {
        eprintln!(
            "[history] attempted={} acknowledged={} (failed write attempts={}, unknown commits={}) \
             published={} publish_attempts={} unsent={} | deliveries={} duplicate_deliveries_skipped={} \
             handler_failures={} | effects={} inbox_rows={} lost={} unexpected={} duplicated_effects={}",
            self.attempted,
            self.acknowledged,
            history.failed_attempts,
            history.unknown_attempts,
            self.published,
            self.publish_attempts,
            self.unsent,
            counters.calls.load(Ordering::Relaxed),
            counters.duplicates_skipped.load(Ordering::Relaxed),
            counters.failures.load(Ordering::Relaxed),
            self.effects,
            self.inbox_rows,
            self.lost.len(),
            self.unexpected.len(),
            self.duplicated.len(),
        );
    }

    pub fn assert_clean(&self, expected: usize) {
        assert_eq!(self.attempted, expected, "events attempted");
        assert_eq!(self.acknowledged, expected, "events acknowledged by the producer database");
        assert!(
            self.lost.is_empty(),
            "lost {} events, e.g. {:?}",
            self.lost.len(),
            &self.lost[..self.lost.len().min(10)]
        );
        assert!(
            self.duplicated.is_empty(),
            "{} duplicated effects, e.g. {:?}",
            self.duplicated.len(),
            &self.duplicated[..self.duplicated.len().min(10)]
        );
        assert!(
            self.unexpected.is_empty(),
            "unexpected effects: {:?}",
            &self.unexpected[..self.unexpected.len().min(10)]
        );
        assert_eq!(self.effects, expected, "effects applied");
        assert_eq!(self.inbox_rows, expected as i64, "inbox rows");
        assert_eq!(self.unsent, 0, "outbox rows never confirmed by the broker");
        assert_eq!(self.published, expected as i64, "outbox rows marked sent");
    }
}

/// Waits (bounded) until `expected` effects exist, printing progress; panics with the counts.
pub async fn wait_for_effects(
    producer: &Db,
    consumer: &Db,
    counters: &Counters,
    expected: i64,
    timeout: Duration,
    started: Instant,
) {
    let deadline = Instant::now() + timeout;
    let mut last_print = Instant::now();
    loop {
        let effects = effects_count(consumer).await;
        if effects >= expected {
            eprintln!("[drain] all {expected} effects applied at t={:.1}s", started.elapsed().as_secs_f64());
            return;
        }
        let now = Instant::now();
        if now >= deadline || now.duration_since(last_print) >= Duration::from_secs(5) {
            last_print = now;
            let unsent = unsent_count(producer).await;
            let line = format!(
                "t={:.1}s effects={effects}/{expected} missing={} outbox_unsent={unsent} deliveries={} \
                 duplicates_skipped={} handler_failures={}",
                started.elapsed().as_secs_f64(),
                expected - effects,
                counters.calls.load(Ordering::Relaxed),
                counters.duplicates_skipped.load(Ordering::Relaxed),
                counters.failures.load(Ordering::Relaxed),
            );
            if now >= deadline {
                panic!("not all effects applied within {timeout:?}: {line}");
            }
            eprintln!("[drain] {line}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// After every effect exists: waits until the outbox is empty, the queue holds nothing ready and
/// no delivery has arrived for a while (late duplicates are handled before the consumer stops).
pub async fn wait_for_quiet(producer: &Db, cfg: &RabbitConfig, counters: &Counters, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let queue = cfg.queue_name(CONSUMER);
    let mut last_calls = u64::MAX;
    let mut quiet_since = Instant::now();
    loop {
        let unsent = unsent_count(producer).await;
        let ready = ready_count(cfg, &queue).await;
        let calls = counters.calls.load(Ordering::Relaxed);
        if calls != last_calls || unsent != 0 || ready != 0 {
            last_calls = calls;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= Duration::from_secs(2) {
            return;
        }
        if Instant::now() >= deadline {
            panic!("not quiet within {timeout:?}: outbox_unsent={unsent} queue_ready={ready} deliveries={calls}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
