//! Refused calls on the record: every refusal (a token that did not verify, a role the table does
//! not allow, a record outside the caller's scope) becomes an `access.refused` event in the service's
//! outbox, which the audit service appends to its log. Rate-limited per actor and reason so a flood
//! cannot fill the log: at most [`PER_WINDOW`] entries per actor and reason per [`WINDOW_SECS`] (so
//! cheap role refusals cannot hide probes of other organizations' records); the next entry after a
//! burst carries the number left out. Each recorded refusal is logged at warn with the running count.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use wf_auth::{Principal, Refusal, RefusalReason, RefusalSink};
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_types::SharedClock;

/// Entries recorded per actor per window.
pub const PER_WINDOW: u32 = 10;
/// The window, in seconds.
pub const WINDOW_SECS: i64 = 60;
/// Refusals waiting for the writer; beyond this they are counted and dropped.
const QUEUE: usize = 1024;
/// Actors tracked before the limiter forgets them all (a flood of distinct subjects).
const MAX_ACTORS: usize = 10_000;

/// What one actor has been recorded for in the current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started_micros: i64,
    recorded: u32,
    suppressed: u32,
}

/// The pure rate limit: for each refusal, `Some(suppressed_before)` to record it, `None` to leave it out.
#[derive(Debug, Default)]
struct Limiter {
    actors: HashMap<String, Window>,
}

impl Limiter {
    /// Whether [`Limiter::admit`] would record an entry for `actor` now (changes nothing).
    fn would_admit(&self, actor: &str, now_micros: i64) -> bool {
        self.actors.get(actor).is_none_or(|window| {
            now_micros - window.started_micros >= WINDOW_SECS * 1_000_000 || window.recorded < PER_WINDOW
        })
    }

    fn admit(&mut self, actor: &str, now_micros: i64) -> Option<u32> {
        if self.actors.len() >= MAX_ACTORS && !self.actors.contains_key(actor) {
            self.actors.clear();
        }
        let window = self.actors.entry(actor.to_owned()).or_insert(Window {
            started_micros: now_micros,
            recorded: 0,
            suppressed: 0,
        });
        if now_micros - window.started_micros >= WINDOW_SECS * 1_000_000 {
            window.started_micros = now_micros;
            window.recorded = 0;
        }
        if window.recorded >= PER_WINDOW {
            window.suppressed += 1;
            return None;
        }
        window.recorded += 1;
        Some(std::mem::take(&mut window.suppressed))
    }
}

struct Inner {
    service: &'static str,
    db: wf_db::Db,
    clock: SharedClock,
    limiter: Mutex<Limiter>,
    sender: mpsc::Sender<events::AccessRefused>,
    receiver: Mutex<Option<mpsc::Receiver<events::AccessRefused>>>,
    total: AtomicU64,
}

/// A service's refusal recorder: a cheap handle for the interceptor and the use cases, and the writer
/// the [`crate::Server`] runs beside the service's workers.
#[derive(Clone)]
pub struct Refusals {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Refusals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refusals").field("service", &self.inner.service).finish_non_exhaustive()
    }
}

impl Refusals {
    /// A recorder writing to `service`'s outbox in `db`, timed by `clock`.
    pub fn new(service: &'static str, db: wf_db::Db, clock: SharedClock) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Refusals {
            inner: Arc::new(Inner {
                service,
                db,
                clock,
                limiter: Mutex::new(Limiter::default()),
                sender,
                receiver: Mutex::new(Some(receiver)),
                total: AtomicU64::new(0),
            }),
        }
    }

    /// Records that `principal` was answered NOT_FOUND for `record_id`, which exists but lies
    /// outside its scope. `operation` is the gRPC method (`/package.Service/Method`).
    pub fn out_of_scope(&self, principal: &Principal, operation: &str, record_id: &str) {
        self.record(Refusal::of(principal, operation, record_id, RefusalReason::OutOfScope));
    }

    /// Every refusal seen by this recorder, recorded or left out by the rate limit.
    pub fn total(&self) -> u64 {
        self.inner.total.load(Ordering::Relaxed)
    }

    /// The sink the service's gate ([`wf_auth::AuthGate`]) reports to.
    pub fn sink(&self) -> Arc<dyn RefusalSink> {
        Arc::new(self.clone())
    }

    fn record(&self, refusal: Refusal) {
        let total = self.inner.total.fetch_add(1, Ordering::Relaxed) + 1;
        let actor = refusal.actor.clone().unwrap_or_else(|| "unauthenticated".to_owned());
        let now = self.inner.clock.now();
        let bucket = bucket(&refusal);
        let admitted =
            self.inner.limiter.lock().unwrap_or_else(|p| p.into_inner()).admit(&bucket, now.timestamp_micros());
        let Some(suppressed_before) = admitted else {
            tracing::debug!(
                service = self.inner.service,
                reason = refusal.reason.code(),
                "refusal over the rate limit"
            );
            return;
        };
        tracing::warn!(
            service = self.inner.service,
            actor = %actor,
            role = refusal.role.map(|r| r.to_string()).unwrap_or_default(),
            operation = %refusal.operation,
            reason = refusal.reason.code(),
            refusals_total = total,
            "call refused"
        );
        let event = events::AccessRefused {
            actor,
            actor_role: refusal.role.map(|r| r.to_string()).unwrap_or_default(),
            actor_organization_id: refusal.organization_id.unwrap_or_default(),
            operation: bounded(&refusal.operation),
            record_id: bounded(&refusal.record_id),
            reason: refusal.reason.code().to_owned(),
            at: Some(wf_proto::time::timestamp(now)),
            trace_id: wf_telemetry::TraceContext::current().trace_id().unwrap_or_default(),
            suppressed_before,
        };
        if self.inner.sender.try_send(event).is_err() {
            tracing::warn!(service = self.inner.service, "refusal queue full: refusal counted, not recorded");
        }
    }

    /// Writes queued refusals to the outbox until `shutdown`, then what is still queued.
    pub async fn run(&self, shutdown: CancellationToken) {
        let Some(mut receiver) = self.inner.receiver.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            tracing::error!(service = self.inner.service, "refusal writer already running");
            return;
        };
        loop {
            let next = tokio::select! {
                next = receiver.recv() => next,
                () = shutdown.cancelled() => break,
            };
            let Some(event) = next else { return };
            self.write(event).await;
        }
        receiver.close();
        while let Ok(event) = receiver.try_recv() {
            self.write(event).await;
        }
    }

    async fn write(&self, event: events::AccessRefused) {
        let aggregate = if event.record_id.is_empty() { event.actor.clone() } else { event.record_id.clone() };
        let envelope = Envelope::new(self.inner.service, aggregate.clone(), aggregate, &event);
        let written = async {
            let mut tx = self.inner.db.begin().await?;
            outbox::enqueue(&mut tx, self.inner.db.backend(), &envelope).await?;
            tx.commit().await?;
            Ok::<(), wf_db::DbError>(())
        }
        .await;
        if let Err(err) = written {
            tracing::error!(service = self.inner.service, error = %err, "cannot record a refusal");
        }
    }
}

impl RefusalSink for Refusals {
    fn refused(&self, refusal: Refusal) {
        self.record(refusal);
    }

    fn would_record(&self, refusal: &Refusal) -> bool {
        let now = self.inner.clock.now_micros();
        self.inner.limiter.lock().unwrap_or_else(|p| p.into_inner()).would_admit(&bucket(refusal), now)
    }
}

/// The rate-limit bucket of a refusal: one per actor and reason, so cheap role refusals cannot use
/// up the entries that record probes of other organizations' records (out of scope).
fn bucket(refusal: &Refusal) -> String {
    let actor = refusal.actor.as_deref().unwrap_or("unauthenticated");
    format!("{actor}\u{0}{}", refusal.reason.code())
}

/// Operation names and record ids come from callers: a refusal keeps at most 200 characters of each.
fn bounded(value: &str) -> String {
    match value.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000_000;

    #[test]
    fn an_actor_is_recorded_ten_times_a_minute_and_the_next_entry_counts_the_rest() {
        let mut limiter = Limiter::default();
        for _ in 0..PER_WINDOW {
            assert_eq!(limiter.admit("usr_a", 0), Some(0));
        }
        for second in 1..=25 {
            assert_eq!(limiter.admit("usr_a", second * 1_000_000), None);
        }
        // another actor is not held back by the first
        assert_eq!(limiter.admit("usr_b", 30 * 1_000_000), Some(0));
        assert_eq!(limiter.admit("usr_a", MINUTE), Some(25));
        assert_eq!(limiter.admit("usr_a", MINUTE + 1), Some(0));
    }

    #[test]
    fn asking_whether_an_entry_would_be_recorded_changes_nothing() {
        let mut limiter = Limiter::default();
        assert!(limiter.would_admit("usr_a", 0), "an actor never seen");
        for _ in 0..PER_WINDOW {
            assert!(limiter.would_admit("usr_a", 0));
            assert_eq!(limiter.admit("usr_a", 0), Some(0));
        }
        for _ in 0..100 {
            assert!(!limiter.would_admit("usr_a", 1), "over the limit");
        }
        // asking did not count as suppressed, and the next window admits again
        assert!(limiter.would_admit("usr_a", MINUTE));
        assert_eq!(limiter.admit("usr_a", MINUTE), Some(0));
    }

    #[tokio::test]
    async fn role_refusals_cannot_use_up_the_entries_of_out_of_scope_probes() {
        let db = wf_db::Db::connect("sqlite::memory:").await.expect("db");
        let refusals = Refusals::new("intake", db, wf_types::SystemClock::shared());
        let principal = Principal {
            subject: "client_x".into(),
            role: wf_auth::Role::Partner,
            partner_id: Some("org_x".into()),
            kind: wf_auth::TokenKind::Partner,
            token_id: "t".into(),
        };
        for _ in 0..50 {
            refusals.record(Refusal::of(
                &principal,
                "/wayfinder.cases.v1.CaseService/ListCases",
                "",
                RefusalReason::RoleNotAllowed,
            ));
        }
        refusals.out_of_scope(&principal, "/wayfinder.intake.v1.IntakeService/GetReferral", "ref_1");
        let mut receiver = refusals.inner.receiver.lock().unwrap().take().unwrap();
        let mut recorded = Vec::new();
        while let Ok(event) = receiver.try_recv() {
            recorded.push((event.reason, event.record_id));
        }
        assert_eq!(recorded.len(), PER_WINDOW as usize + 1);
        assert_eq!(recorded.last(), Some(&("out_of_scope".to_owned(), "ref_1".to_owned())));
        assert_eq!(refusals.total(), 51);
    }

    #[test]
    fn long_values_are_cut() {
        assert_eq!(bounded("ref_1"), "ref_1");
        let long = "x".repeat(200_000);
        assert_eq!(bounded(&long).chars().count(), 201);
    }
}
