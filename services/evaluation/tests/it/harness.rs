//! A served evaluation service and a cohort of coded events.

use chrono::{Datelike, Duration, Utc};
use tonic::Code;
use wf_auth::Role;
use wf_events::{Envelope, EventPayload};
use wf_proto::cases::v1::{CaseStage, FollowUpKind, FollowUpStatus};
use wf_proto::common::v1 as common;
use wf_proto::common::v1::ReportFormat;
use wf_proto::evaluation::v1 as pb;
use wf_proto::evaluation::v1::evaluation_service_client::EvaluationServiceClient;
use wf_proto::events::v1 as events;
use wf_testkit::{AuthedChannel, Engine, TestServer, TestService};
use wf_types::{SharedClock, SystemClock};

/// The evaluation service, as the all-in-one builds it, for [`TestServer::start_many`].
pub fn evaluation() -> TestService {
    TestService::new(wf_evaluation::migrations(), |ctx| async move { Ok(wf_evaluation::build(ctx).await? as _) })
}

pub struct Served {
    pub server: TestServer,
}

impl Served {
    /// The evaluation service alone, on its own database, on the wall clock.
    pub async fn start(engine: Engine) -> Self {
        Self::start_with_clock(engine, SystemClock::shared()).await
    }

    /// As [`Served::start`], the service reading `clock`.
    pub async fn start_with_clock(engine: Engine, clock: SharedClock) -> Self {
        Self { server: TestServer::start_many(engine, clock, vec![evaluation()]).await }
    }

    pub async fn client(&self, role: Role) -> EvaluationServiceClient<AuthedChannel> {
        EvaluationServiceClient::new(self.server.channel(&self.server.tokens.user(role)).await)
    }

    pub async fn manager(&self) -> EvaluationServiceClient<AuthedChannel> {
        self.client(Role::ProgramManager).await
    }

    pub async fn publish_all(&self, envelopes: &[Envelope]) {
        for envelope in envelopes {
            self.server.publish(envelope).await;
        }
    }
}

pub fn ts(at: chrono::DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(wf_proto::time::timestamp(at))
}

fn date(at: chrono::DateTime<Utc>) -> Option<common::Date> {
    Some(common::Date { year: at.year(), month: at.month() as i32, day: at.day() as i32 })
}

pub fn envelope<P: EventPayload>(producer: &str, aggregate: &str, payload: &P, at: chrono::DateTime<Utc>) -> Envelope {
    let mut envelope = Envelope::new(producer, aggregate, aggregate, payload);
    envelope.occurred_at = at;
    envelope
}

/// The events of `n` fictional youth referred 400 days ago; every third has a re-arrest at day
/// 100 + i; every other one received mental health at day 20; half the rest are lost to
/// follow-up after day 60. `practice` marks all of them as practice referrals.
pub fn cohort(prefix: &str, n: usize, practice: bool) -> Vec<Envelope> {
    let intake = Utc::now() - Duration::days(400);
    let mut out = Vec::new();
    for i in 0..n {
        let referral = format!("ref_{prefix}{i:04}");
        let youth = format!("yth_{prefix}{i:04}");
        let case = format!("case_{prefix}{i:04}");
        let received = events::ReferralReceived {
            referral_id: referral.clone(),
            youth_id: youth.clone(),
            received_at: ts(intake),
            practice,
            site: if i % 5 == 0 { common::Site::SanFernandoValley } else { common::Site::SouthLosAngeles } as i32,
            source: common::ReferralSource::Hotline as i32,
            prior_participation_basis: if i % 2 == 0 {
                common::PriorParticipationBasis::CourtOrdered
            } else {
                common::PriorParticipationBasis::Voluntary
            } as i32,
            age_years: 16,
            ..Default::default()
        };
        out.push(envelope("intake", &referral, &received, intake));
        let assigned = events::CaseAssigned {
            case_id: case.clone(),
            referral_id: referral.clone(),
            practice,
            ..Default::default()
        };
        out.push(envelope("cases", &case, &assigned, intake + Duration::hours(1)));
        let enrolled = events::CaseStageChanged {
            case_id: case.clone(),
            referral_id: referral.clone(),
            to_stage: CaseStage::Enrolled as i32,
            effective_at: ts(intake + Duration::days(3)),
            practice,
            ..Default::default()
        };
        out.push(envelope("cases", &case, &enrolled, intake + Duration::days(3)));
        if i % 2 == 0 {
            let delivered = events::InterventionDelivered {
                case_id: case.clone(),
                referral_id: referral.clone(),
                service_type: "mental_health".into(),
                delivered_on: date(intake + Duration::days(20)),
                units: 1.0,
                practice,
                ..Default::default()
            };
            out.push(envelope("cases", &case, &delivered, intake + Duration::days(20)));
        }
        if i % 3 == 0 {
            let at = intake + Duration::days(100 + i as i64);
            let recidivism = events::RecidivismRecorded {
                case_id: case.clone(),
                youth_id: youth.clone(),
                kind: common::RecidivismKind::ReArrest as i32,
                occurred_on: date(at),
                practice,
                ..Default::default()
            };
            out.push(envelope("cases", &case, &recidivism, at));
        } else if i % 2 == 1 {
            let lost = events::FollowUpRecorded {
                case_id: case.clone(),
                kind: FollowUpKind::Month6 as i32,
                status: FollowUpStatus::LostToFollowUp as i32,
                practice,
                ..Default::default()
            };
            out.push(envelope("cases", &case, &lost, intake + Duration::days(60)));
        } else {
            let seen = events::FollowUpRecorded {
                case_id: case.clone(),
                kind: FollowUpKind::Month6 as i32,
                status: FollowUpStatus::Completed as i32,
                completed_at: ts(intake + Duration::days(370)),
                practice,
                ..Default::default()
            };
            out.push(envelope("cases", &case, &seen, intake + Duration::days(370)));
        }
    }
    out
}

pub fn assert_code<T: std::fmt::Debug>(result: Result<T, tonic::Status>, code: Code) -> tonic::Status {
    match result {
        Err(status) if status.code() == code => status,
        other => panic!("expected {code:?}, got {other:?}"),
    }
}

pub fn analysis(kind: pb::AnalysisKind) -> pb::RunAnalysisRequest {
    pb::RunAnalysisRequest { kind: kind as i32, scope: None }
}

/// Generates a report of `kind` over everything, in `format`.
pub async fn generate(
    client: &mut EvaluationServiceClient<AuthedChannel>,
    kind: pb::ReportKind,
    format: ReportFormat,
) -> pb::Report {
    client
        .generate_report(pb::GenerateReportRequest { kind: kind as i32, format: format as i32, scope: None })
        .await
        .expect("generate report")
        .into_inner()
        .report
        .expect("report")
}

/// Asserts that a JSON report holds a table of each of `names`.
pub fn assert_tables(report: &pb::Report, names: &[&str]) {
    let json = std::str::from_utf8(&report.content).expect("utf-8");
    for name in names {
        assert!(json.contains(name), "{name} not in the report");
    }
}

/// `n` fictional youth referred 400 days ago, enrolled and active; the first `missing` of them go
/// missing at day 30 and are found at day 40; every one completes the 6-month follow-up at day 200,
/// employed when `i < employed`.
pub fn missing_and_long_term_cohort(n: usize, missing: usize, employed: usize) -> Vec<Envelope> {
    let intake = Utc::now() - Duration::days(400);
    let mut out = Vec::new();
    for i in 0..n {
        let referral = format!("ref_m{i:04}");
        let case = format!("case_m{i:04}");
        let received = events::ReferralReceived {
            referral_id: referral.clone(),
            youth_id: format!("yth_m{i:04}"),
            received_at: ts(intake),
            site: common::Site::SouthLosAngeles as i32,
            age_years: 17,
            ..Default::default()
        };
        out.push(envelope("intake", &referral, &received, intake));
        let assigned =
            events::CaseAssigned { case_id: case.clone(), referral_id: referral.clone(), ..Default::default() };
        out.push(envelope("cases", &case, &assigned, intake + Duration::hours(1)));
        let mut stages = vec![(3, CaseStage::Enrolled), (20, CaseStage::Active)];
        if i < missing {
            stages.extend([(30, CaseStage::Missing), (40, CaseStage::Active)]);
        }
        for (day, stage) in stages {
            let at = intake + Duration::days(day);
            let changed = events::CaseStageChanged {
                case_id: case.clone(),
                referral_id: referral.clone(),
                to_stage: stage as i32,
                effective_at: ts(at),
                ..Default::default()
            };
            out.push(envelope("cases", &case, &changed, at));
        }
        let at = intake + Duration::days(200);
        let employed_answer = if i < employed { common::NoYes::Yes } else { common::NoYes::No };
        let recorded = events::FollowUpRecorded {
            case_id: case.clone(),
            kind: FollowUpKind::Month6 as i32,
            status: FollowUpStatus::Completed as i32,
            completed_at: ts(at),
            outcomes: Some(wf_proto::cases::v1::FollowUpOutcomes {
                employment: Some(common::Employment { employed: employed_answer as i32, ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        out.push(envelope("cases", &case, &recorded, at));
    }
    out
}
