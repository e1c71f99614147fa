//! A routing service hosted on port 0 with real tokens, for the directory, escalation,
//! policy and HSDS tests; it can be restarted over the same database.

use std::sync::Arc;

use wf_auth::Role;
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::routing_service_client::RoutingServiceClient;
use wf_testkit::{AuthedChannel, Engine, TestDatabase, TestServer};
use wf_types::{SharedClock, SystemClock};

pub type Client = RoutingServiceClient<AuthedChannel>;

pub struct Hosted {
    pub server: TestServer,
    pub db: wf_db::Db,
    database: TestDatabase,
    dir: tempfile::TempDir,
    clock: SharedClock,
}

async fn serve(db: wf_db::Db, dir: &std::path::Path, clock: SharedClock) -> TestServer {
    TestServer::start_with_clock(db, dir, clock, |ctx| async move {
        Ok(wf_routing::build(ctx).await? as Arc<dyn wf_server::Component>)
    })
    .await
}

impl Hosted {
    pub async fn start(engine: Engine) -> Self {
        Self::start_with_clock(engine, SystemClock::shared()).await
    }

    /// As [`Hosted::start`], with the service (its workers included) reading `clock`.
    pub async fn start_with_clock(engine: Engine, clock: SharedClock) -> Self {
        let database = TestDatabase::new(engine).await;
        let db = database.migrated(&wf_routing::migrations()).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let server = serve(db.clone(), dir.path(), clock.clone()).await;
        Self { server, db, database, dir, clock }
    }

    /// Stops the service and starts it again over the same database, on the same clock.
    pub async fn restart(self) -> Self {
        let Self { server, db, database, dir, clock } = self;
        server.stop().await;
        let db2 = database.connect().await;
        db.close().await;
        let server = serve(db2.clone(), dir.path(), clock.clone()).await;
        Self { server, db: db2, database, dir, clock }
    }

    pub async fn as_role(&self, role: Role) -> Client {
        RoutingServiceClient::new(self.server.channel(&self.server.tokens.user(role)).await)
    }

    pub async fn manager(&self) -> Client {
        self.as_role(Role::ProgramManager).await
    }

    pub async fn partner(&self, partner_id: &str) -> Client {
        RoutingServiceClient::new(self.server.channel(&self.server.tokens.partner(partner_id)).await)
    }

    pub async fn decisions_of(&self, referral_id: &str) -> Vec<pb::RoutingDecision> {
        let request = pb::ListDecisionsRequest { referral_id: referral_id.into(), ..Default::default() };
        self.as_role(Role::CaseManager)
            .await
            .list_decisions(request)
            .await
            .expect("list decisions")
            .into_inner()
            .decisions
    }

    /// The referral's offers, oldest first, as staff see them.
    pub async fn offers_of(&self, referral_id: &str) -> Vec<pb::Offer> {
        let request =
            pb::ListOffersRequest { referral_id: referral_id.into(), include_practice: true, ..Default::default() };
        self.as_role(Role::CaseManager).await.list_offers(request).await.expect("list offers").into_inner().offers
    }

    pub async fn pending_offer_of(&self, referral_id: &str) -> Option<pb::Offer> {
        self.offers_of(referral_id).await.into_iter().find(|o| o.status() == pb::OfferStatus::Pending)
    }

    /// Types of the events routing wrote to its outbox, oldest first, with their payloads.
    pub async fn outbox(&self) -> Vec<wf_events::Envelope> {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT envelope FROM event_outbox ORDER BY created_at, id")
            .fetch_all(self.db.pool())
            .await
            .unwrap();
        rows.iter().map(|(bytes,)| wf_events::Envelope::decode(bytes).unwrap()).collect()
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }
}
