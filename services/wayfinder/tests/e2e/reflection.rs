//! Server reflection in both versions (issue 13, finding 4): grpcurl before 1.9, Python's
//! grpcio-reflection and many GUI clients speak only `grpc.reflection.v1alpha`; newer clients `v1`.
//! Either lists every service of the running system, without a token.

use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

const EXPECTED: [&str; 7] = [
    "wayfinder.intake.v1.IntakeService",
    "wayfinder.routing.v1.RoutingService",
    "wayfinder.cases.v1.CaseService",
    "wayfinder.audit.v1.AuditService",
    "wayfinder.evaluation.v1.EvaluationService",
    "wayfinder.admin.v1.AdminService",
    "grpc.health.v1.Health",
];

/// `async fn $name(channel) -> Vec<String>`: the services listed by reflection version `$version`
/// (the two versions are the same protocol in two packages).
macro_rules! services_listed_by {
    ($name:ident, $version:ident) => {
        async fn $name(channel: Channel) -> Vec<String> {
            use tonic_reflection::pb::$version::ServerReflectionRequest;
            use tonic_reflection::pb::$version::server_reflection_client::ServerReflectionClient;
            use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
            use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;
            let request = ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            };
            let mut answers = ServerReflectionClient::new(channel)
                .server_reflection_info(tokio_stream::iter([request]))
                .await
                .expect(concat!(stringify!($version), " reflection answers"))
                .into_inner();
            match answers.message().await.expect("an answer").and_then(|a| a.message_response) {
                Some(MessageResponse::ListServicesResponse(list)) => list.service.into_iter().map(|s| s.name).collect(),
                other => panic!("not a service list: {other:?}"),
            }
        }
    };
}

services_listed_by!(v1alpha_services, v1alpha);
services_listed_by!(v1_services, v1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_every_service_in_v1alpha_and_v1() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
    std::fs::set_permissions(data_dir.path(), private).expect("chmod 700");
    let mut config = wf_config::Config::load(None, Some(data_dir.path())).expect("config");
    config.grpc_addr = "127.0.0.1:0".parse().expect("addr");
    let system = wayfinder::system::build(config, wf_config::SERVICES).await.expect("system builds");
    let url = system.grpc_url();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(system.run(shutdown.clone()));
    let channel = Channel::from_shared(url).expect("url").connect().await.expect("connect");

    for (version, listed) in [("v1alpha", v1alpha_services(channel.clone()).await), ("v1", v1_services(channel).await)]
    {
        for service in EXPECTED {
            assert!(listed.iter().any(|s| s == service), "{version} reflection does not list {service}: {listed:?}");
        }
    }
    shutdown.cancel();
    running.await.expect("join").expect("clean shutdown");
}
