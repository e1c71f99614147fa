//! Dead-letter administration for the services a process hosts.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_events::EventBus;
use wf_proto::admin::v1 as pb;
use wf_proto::time::timestamp;

use crate::{ApiError, PageLimits};

pub struct AdminApi {
    bus: Arc<dyn EventBus>,
    hosted: Vec<&'static str>,
}

/// Dead letters listed per call: 100 unless asked, at most 1000 (more is refused).
const DEAD_LETTER_PAGES: PageLimits = PageLimits::new(100, 1000);

impl AdminApi {
    pub fn new(bus: Arc<dyn EventBus>, hosted: Vec<&'static str>) -> Self {
        Self { bus, hosted }
    }

    fn check_service(&self, service: &str) -> Result<(), ApiError> {
        if self.hosted.contains(&service) {
            Ok(())
        } else {
            Err(ApiError::invalid(
                "service",
                format!("`{service}` is not hosted by this process; allowed: {}", self.hosted.join(", ")),
            ))
        }
    }
}

#[tonic::async_trait]
impl pb::admin_service_server::AdminService for AdminApi {
    async fn list_dead_letters(
        &self,
        request: Request<pb::ListDeadLettersRequest>,
    ) -> Result<Response<pb::ListDeadLettersResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ManageDeadLetters)?;
        let request = request.into_inner();
        self.check_service(&request.service)?;
        let mut violations = Vec::new();
        let limit = DEAD_LETTER_PAGES.size_within(request.page_size, &mut violations);
        ApiError::check(violations)?;
        let letters = self.bus.list_dead_letters(&request.service, limit).await.map_err(|err| {
            tracing::error!(service = %request.service, error = %err, "listing dead letters failed");
            ApiError::Unavailable("dead letters cannot be read right now".into())
        })?;
        let dead_letters = letters
            .into_iter()
            .map(|letter| pb::DeadLetter {
                event_id: letter.envelope.event_id.to_string(),
                r#type: letter.envelope.event_type.clone(),
                aggregate_id: letter.envelope.aggregate_id.clone(),
                producer: letter.envelope.producer.clone(),
                occurred_at: Some(timestamp(letter.envelope.occurred_at)),
                reason: letter.reason,
                attempts: letter.attempts,
                dead_lettered_at: Some(timestamp(letter.dead_lettered_at)),
            })
            .collect();
        Ok(Response::new(pb::ListDeadLettersResponse { dead_letters }))
    }

    async fn replay_dead_letters(
        &self,
        request: Request<pb::ReplayDeadLettersRequest>,
    ) -> Result<Response<pb::ReplayDeadLettersResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageDeadLetters)?;
        let request = request.into_inner();
        self.check_service(&request.service)?;
        let selection = (!request.event_ids.is_empty()).then_some(request.event_ids.as_slice());
        let replayed = self.bus.replay_dead_letters(&request.service, selection).await.map_err(|err| {
            tracing::error!(service = %request.service, error = %err, "replaying dead letters failed");
            ApiError::Unavailable("dead letters cannot be replayed right now".into())
        })?;
        tracing::info!(service = %request.service, replayed, actor = %principal.subject, "dead letters replayed");
        Ok(Response::new(pb::ReplayDeadLettersResponse { replayed: replayed as u32 }))
    }
}
