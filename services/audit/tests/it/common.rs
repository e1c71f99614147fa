use std::path::PathBuf;

use uuid::Uuid;
use wf_db::{Backend, Db};
use wf_events::{Envelope, EventPayload};
use wf_proto::events::v1 as pb;

/// Runs `body(&Db)` once on SQLite and once on PostgreSQL, each a fresh migrated database.
macro_rules! on_both_backends {
    ($body:ident) => {
        mod $body {
            #[tokio::test]
            async fn sqlite() {
                let test_db = $crate::common::TestDb::sqlite().await;
                super::$body(&test_db).await;
            }

            #[tokio::test]
            async fn postgres() {
                let test_db = $crate::common::TestDb::postgres().await;
                super::$body(&test_db).await;
            }
        }
    };
}
pub(crate) use on_both_backends;

pub fn postgres_admin_url() -> String {
    std::env::var("WF_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A migrated database that is removed when the test ends, even when it panics.
pub struct TestDb {
    pub db: Db,
    /// A scratch folder (the SQLite file, keys, configuration).
    pub dir: PathBuf,
    postgres_name: Option<String>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = scratch_dir();
        let db = Db::connect(&wf_db::sqlite_url_in(&dir, "audit.db")).await.expect("open sqlite");
        db.migrate(&wf_audit::migrations()).await.expect("migrate sqlite");
        Self { db, dir, postgres_name: None }
    }

    pub async fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("t_{}", Uuid::new_v4().simple());
        let admin = Db::connect(&admin_url).await.expect("connect to the test postgres");
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(admin.pool()).await.expect("create database");
        admin.close().await;
        let url = match admin_url.rfind('/') {
            Some(slash) => format!("{}/{name}", &admin_url[..slash]),
            None => panic!("test database url has no database name"),
        };
        let db = Db::connect(&url).await.expect("connect to the fresh database");
        db.migrate(&wf_audit::migrations()).await.expect("migrate postgres");
        Self { db, dir: scratch_dir(), postgres_name: Some(name) }
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(name) = self.postgres_name.take() {
            // Drop cannot await, and the test's runtime may be unwinding: use a thread of our own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(async {
                    let admin = Db::connect(&postgres_admin_url()).await?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(admin.pool())
                        .await?;
                    admin.close().await;
                    anyhow::Ok(())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop a test database");
            }
        }
    }
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wf-audit-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
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
    event("routing", &format!("off_{}", Uuid::now_v7().simple()), referral_id, &pb::OfferMade::default())
}
