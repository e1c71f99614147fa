//! The PostgreSQL variant of every test runs on the server `WF_TEST_DATABASE_URL` names (the
//! one the test script sets), in a database of the test's own.

use wf_db::Backend;
use wf_testkit::Engine;

use crate::harness::Harness;

/// (user, host, port, database) of a `postgres://user[:password]@host[:port]/database` URL.
fn parts(url: &str) -> (String, String, u16, String) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
    let database = database.split('?').next().unwrap_or_default();
    let (user, host_port) = authority.rsplit_once('@').unwrap_or(("", authority));
    let user = user.split(':').next().unwrap_or_default();
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "5432"));
    (user.to_owned(), host.to_owned(), port.parse().expect("port"), database.to_owned())
}

#[tokio::test]
async fn the_postgres_variant_runs_on_the_server_the_test_script_names() {
    let named = wf_testkit::postgres_url();
    let h = Harness::start(Engine::Postgres).await;
    assert_eq!(h.db.backend(), Backend::Postgres);
    let (user, host, port, database) = parts(h.database.url());
    let (named_user, named_host, named_port, named_database) = parts(&named);
    assert_eq!((&user, &host, port), (&named_user, &named_host, named_port), "{}", wf_db::redact_url(&named));
    assert_ne!(database, named_database, "each test has a database of its own on that server");
    // The connection really is to that database, as that user, on that port.
    let (current_database, current_user, server_port): (String, String, Option<i32>) =
        sqlx::query_as("SELECT CAST(current_database() AS TEXT), CAST(current_user AS TEXT), inet_server_port()")
            .fetch_one(h.db.pool())
            .await
            .unwrap();
    assert_eq!((current_database, current_user), (database, user));
    if host == "127.0.0.1" || host == "localhost" {
        assert_eq!(server_port, Some(i32::from(port)));
    }
    h.finish().await;
}
