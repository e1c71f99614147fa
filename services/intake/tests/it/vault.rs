//! The vault at rest: after loading the demo data, a dump of the intake database
//! (`pg_dump`, or the raw SQLite files) holds no name, date of birth or phone number,
//! in any table (referrals, status history, outbox, inbox).

use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::common::v1 as common;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_testkit::{Engine, both_engines};

use super::{Harness, example};

/// An obviously fictional youth; names are made-up words unlikely to occur by chance.
fn generated(index: u32) -> pb::SubmitReferralRequest {
    let mut request = example();
    let referral = request.referral.as_mut().expect("referral");
    referral.external_reference = format!("GEN-{index:04}");
    let personal = referral.personal.as_mut().expect("personal");
    personal.legal_first_name = format!("Testy{index}Quillon");
    personal.legal_last_name = format!("Marbleworth{index}");
    personal.preferred_name = format!("Quilly{index}");
    personal.aliases = vec![format!("Streetname{index}x")];
    personal.date_of_birth = Some(common::Date {
        year: 2005 + (index % 8) as i32,
        month: 1 + (index % 12) as i32,
        day: 10 + (index % 18) as i32,
    });
    personal.phones[0].number = format!("+1-555-01{:02}", 10 + index);
    personal.emails = vec![format!("testy{index}@example.org")];
    personal.guardians[0].last_name = format!("Guardianov{index}");
    personal.guardians[0].phones[0].number = format!("(213) 555-01{:02}", 40 + index);
    request
}

/// Every way a value could show up in a dump: as text, and (PostgreSQL prints bytea in hex) as hex.
/// Whether `text` holds `needle`. A needle of digits alone (a phone's digits, a compact date) counts only
/// where it stands as a token of its own: inside a run of hex digits (ciphertext and binary columns
/// dumped as hex, where any 7 digits turn up by chance about once per 270 million characters) it is not
/// the personal value, while a value stored in the clear is set off by a quote, tab or other separator.
fn holds(text: &str, needle: &str) -> bool {
    if !needle.bytes().all(|b| b.is_ascii_digit()) {
        return text.contains(needle);
    }
    let bytes = text.as_bytes();
    text.match_indices(needle).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + needle.len()).copied();
        !before.is_some_and(|b| b.is_ascii_hexdigit()) && !after.is_some_and(|b| b.is_ascii_hexdigit())
    })
}

#[test]
fn a_digit_needle_counts_only_as_a_token_of_its_own() {
    assert!(holds("number\t15550126\n", "15550126"));
    assert!(holds("\"15550126\"", "15550126"));
    assert!(!holds("\\x3fa15550126c0", "15550126"), "a chance run inside hex is not the value");
    assert!(holds("Fictional-Lastname", "Lastname"), "other needles match anywhere");
}

fn needles(requests: &[pb::SubmitReferralRequest]) -> Vec<String> {
    let mut needles = Vec::new();
    for request in requests {
        let personal = request.referral.as_ref().and_then(|r| r.personal.clone()).expect("personal");
        needles.extend([personal.legal_last_name.clone(), personal.emails[0].clone()]);
        needles.extend(personal.aliases.iter().filter(|a| a.len() >= 5).cloned());
        if personal.legal_first_name.len() >= 5 {
            needles.push(personal.legal_first_name.clone());
            needles.push(personal.preferred_name.clone());
        }
        for guardian in &personal.guardians {
            needles.push(guardian.last_name.clone());
        }
        for phone in personal.phones.iter().chain(personal.guardians.iter().flat_map(|g| g.phones.iter())) {
            let digits: String = phone.number.chars().filter(char::is_ascii_digit).collect();
            needles.extend([phone.number.clone(), digits.clone(), digits[digits.len() - 7..].to_owned()]);
            needles.push(format!("{}-{}", &digits[digits.len() - 7..digits.len() - 4], &digits[digits.len() - 4..]));
        }
        let dob = personal.date_of_birth.expect("dob");
        let (y, m, d) = (dob.year, dob.month, dob.day);
        needles.extend([
            format!("{y}-{m:02}-{d:02}"),
            format!("{m:02}/{d:02}/{y}"),
            format!("{m}/{d}/{y}"),
            format!("{d:02}.{m:02}.{y}"),
            format!("{y}{m:02}{d:02}"),
        ]);
    }
    let hex: Vec<String> = needles.iter().map(|n| n.bytes().map(|b| format!("{b:02x}")).collect()).collect();
    needles.extend(hex);
    needles
}

fn dump(engine: Engine, url: &str) -> Vec<u8> {
    match engine {
        Engine::Postgres => {
            let output = std::process::Command::new("pg_dump")
                .arg("--no-owner")
                .arg(format!("--dbname={url}"))
                .output()
                .expect("pg_dump runs");
            assert!(output.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&output.stderr));
            output.stdout
        }
        Engine::Sqlite => {
            let path = url.strip_prefix("sqlite:").expect("sqlite url");
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-journal"] {
                if let Ok(file) = std::fs::read(format!("{path}{suffix}")) {
                    bytes.extend(file);
                }
            }
            bytes
        }
    }
}

both_engines!(a_dump_of_the_database_holds_no_personal_data, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut client = harness.client(Role::Hotline).await;
    let mut requests = vec![example()];
    requests.extend((0..20).map(generated));
    let mut ids = Vec::new();
    for request in &requests {
        ids.push(client.submit_referral(request.clone()).await.expect("submit").into_inner().referral_id);
    }
    // Reads with a purpose leave access events in the outbox; resubmission exercises the duplicate path.
    let mut staff = harness.client(Role::Supervisor).await;
    for id in &ids[..3] {
        let read = staff
            .get_referral(pb::GetReferralRequest { referral_id: id.clone(), purpose: "case_management".into() })
            .await
            .expect("read")
            .into_inner();
        assert!(read.referral.and_then(|r| r.personal).is_some(), "the vault opens for staff");
    }
    client.submit_referral(requests[1].clone()).await.expect("duplicate");
    // Status changes from routing and cases fill the inbox and the status history.
    for id in &ids[..5] {
        let routed =
            events::ReferralRouted { referral_id: id.clone(), partner_id: "org_x".into(), ..Default::default() };
        harness.server.publish(&Envelope::new("routing", id.as_str(), id.as_str(), &routed)).await;
    }
    let (inbox,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM event_inbox").fetch_one(harness.db.pool()).await.expect("inbox");
    let (history,): (i64,) = wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral_status_change")
        .fetch_one(harness.db.pool())
        .await
        .expect("history");
    assert_eq!((inbox, history), (5, 26), "the inbox and status history are part of what is dumped");
    harness.published("referral.received", requests.len()).await;

    let (rows,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral").fetch_one(harness.db.pool()).await.expect("count");
    assert_eq!(rows, 21);
    let bytes = dump(engine, harness._database.url());
    assert!(bytes.len() > 10_000, "the dump holds the data ({} bytes)", bytes.len());
    // Needles are ASCII, which a lossy conversion keeps intact; `str::contains` keeps the search fast.
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("referral.received"), "the outbox is part of the dump");
    // The search sees coded fields (stored in the clear, in hex on PostgreSQL), so a miss means sealed.
    let reference = "GEN-0007";
    let reference_hex: String = reference.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(text.contains(reference) || text.contains(&reference_hex), "coded fields are visible to the search");
    for needle in needles(&requests) {
        assert!(!holds(&text, &needle), "the {engine:?} dump contains personal data: {needle:?}");
    }
    harness.server.stop().await;
});
