//! Finding 10: an answer's size is bounded however much was wrong or however long the id sent was,
//! so it reaches a stock client (which refuses header lists over 16 KiB) and echoes nothing huge.

use tonic::Code;
use tonic_types::StatusExt;

use crate::{LONG_ID_CHARS, TestServer, frame};

#[tokio::test]
async fn thousands_of_violations_reach_a_stock_client_as_the_first_ones_and_a_count() {
    let server = TestServer::start().await;
    let answer = server.call("/wayfinder.test.Answers/ManyViolations", frame(&[])).await;
    assert_eq!(answer.code, Code::InvalidArgument);
    assert!(
        answer.message.starts_with("referral.youth.aliases[0]: must be at most 100 characters"),
        "{}",
        answer.message
    );
    let details = answer.status.get_error_details();
    let listed = details.bad_request().expect("BadRequest").field_violations.len();
    assert!((1..=100).contains(&listed), "{listed}");
    let more = 5_000 - listed;
    let count = format!("… and {},{:03} more", more / 1000, more % 1000);
    assert!(answer.message.ends_with(&count), "{} / {count}", answer.message);
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.metadata.get("not_listed"), Some(&more.to_string()));
}

#[tokio::test]
async fn a_not_found_for_a_200_kb_id_does_not_echo_it() {
    let server = TestServer::start().await;
    let answer = server.call("/wayfinder.test.Answers/LongId", frame(&[])).await;
    assert_eq!(answer.code, Code::NotFound);
    assert_eq!(answer.message, format!("referral (an id of {},000 characters) not found", LONG_ID_CHARS / 1000));
}
