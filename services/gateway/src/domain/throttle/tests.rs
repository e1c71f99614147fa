use super::*;

const MIN: i64 = 60 * 1_000_000;
const T0: i64 = 1_800_000_000 * 1_000_000;

fn attempts_in_a_row(limits: Limits, n: u32, every: i64) -> (Option<Attempts>, Vec<Verdict>) {
    let mut stored = None;
    let mut verdicts = Vec::new();
    for i in 0..n {
        let reserved = limits.reserve(stored, T0 + i64::from(i) * every);
        let verdict = limits.verdict(&reserved);
        if verdict == Verdict::Proceed {
            stored = Some(reserved); // a failure keeps its place
        }
        verdicts.push(verdict);
    }
    (stored, verdicts)
}

#[test]
fn the_sixth_attempt_on_an_account_in_fifteen_minutes_waits() {
    let (_, verdicts) = attempts_in_a_row(PER_ACCOUNT, 6, MIN);
    assert!(verdicts[..5].iter().all(|v| *v == Verdict::Proceed));
    assert_eq!(verdicts[5], Verdict::Wait { until: T0 + 15 * MIN });
}

#[test]
fn a_new_window_starts_once_the_last_ran_out() {
    let (stored, _) = attempts_in_a_row(PER_ACCOUNT, 5, MIN);
    let reserved = PER_ACCOUNT.reserve(stored, T0 + 15 * MIN);
    assert_eq!(reserved.in_window, 1);
    assert_eq!(reserved.consecutive, 6);
    assert_eq!(PER_ACCOUNT.verdict(&reserved), Verdict::Proceed);
}

#[test]
fn a_hundred_consecutive_failures_lock_the_account() {
    // One attempt every 3 minutes stays inside the window limit.
    let (stored, verdicts) = attempts_in_a_row(PER_ACCOUNT, 101, 3 * MIN);
    assert!(verdicts[..100].iter().all(|v| *v == Verdict::Proceed));
    assert_eq!(verdicts[100], Verdict::Locked);
    assert!(!PER_ACCOUNT.forgettable(&stored.unwrap(), T0 + 1000 * 24 * 60 * MIN));
}

#[test]
fn addresses_allow_thirty_and_are_never_locked() {
    let (_, verdicts) = attempts_in_a_row(PER_ADDRESS, 31, 0);
    assert!(verdicts[..30].iter().all(|v| *v == Verdict::Proceed));
    assert!(matches!(verdicts[30], Verdict::Wait { .. }));
    let (_, verdicts) = attempts_in_a_row(PER_ADDRESS, 500, 30 * 1_000_000);
    assert!(!verdicts.contains(&Verdict::Locked));
}

#[test]
fn a_success_gives_back_its_place() {
    let reserved = PER_ADDRESS.reserve(Some(Attempts { in_window: 3, window_started: T0, consecutive: 3 }), T0 + MIN);
    assert_eq!(release(reserved), Attempts { in_window: 3, window_started: T0, consecutive: 0 });
}

#[test]
fn old_counters_are_forgotten_a_day_after_their_window() {
    let counter = Attempts { in_window: 2, window_started: T0, consecutive: 2 };
    assert!(!PER_ACCOUNT.forgettable(&counter, T0 + 24 * 60 * MIN));
    assert!(PER_ACCOUNT.forgettable(&counter, T0 + 15 * MIN + 24 * 60 * MIN));
}

#[test]
fn ipv6_counts_by_network_and_mapped_ipv4_as_ipv4() {
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
    let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(address_key(a), address_key(b));
    assert_ne!(address_key(a), address_key(c));
    assert_eq!(address_key("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
    assert_eq!(address_key("192.0.2.7".parse().unwrap()), "192.0.2.7");
}

#[test]
fn keys_are_hashed_per_scope() {
    assert_ne!(key_hash(Scope::Account, "x"), key_hash(Scope::Address, "x"));
    assert_eq!(key_hash(Scope::Account, "x").len(), 64);
}

#[test]
fn attempts_behind_a_trusted_proxy_count_against_the_address_it_forwards() {
    let proxies = [wf_config::TrustedProxy::parse("10.0.0.0/24").unwrap()];
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    // No trusted proxies: the header is never read.
    assert_eq!(client_address(ip("10.0.0.2"), &["198.51.100.7"], &[]), ip("10.0.0.2"));
    // A caller that is not our proxy cannot name another address.
    assert_eq!(client_address(ip("203.0.113.9"), &["198.51.100.7"], &proxies), ip("203.0.113.9"));
    // Through our proxy: the address it saw.
    assert_eq!(client_address(ip("10.0.0.2"), &["198.51.100.7"], &proxies), ip("198.51.100.7"));
    // A forged entry the client sent first is left of the one our proxy added: not believed.
    assert_eq!(client_address(ip("10.0.0.2"), &["192.0.2.66, 198.51.100.7"], &proxies), ip("198.51.100.7"));
    // Two of our proxies in a row, over two headers.
    assert_eq!(client_address(ip("10.0.0.2"), &["198.51.100.7", "10.0.0.3"], &proxies), ip("198.51.100.7"));
    // No header, or only garbage: the proxy's own address (every attempt through it shares one counter).
    assert_eq!(client_address(ip("10.0.0.2"), &[], &proxies), ip("10.0.0.2"));
    assert_eq!(client_address(ip("10.0.0.2"), &["unknown"], &proxies), ip("10.0.0.2"));
    assert_eq!(client_address(ip("10.0.0.2"), &["198.51.100.7, nonsense"], &proxies), ip("10.0.0.2"));
    // Some proxies append the client's port.
    assert_eq!(client_address(ip("10.0.0.2"), &["198.51.100.7:4711"], &proxies), ip("198.51.100.7"));
    assert_eq!(client_address(ip("10.0.0.2"), &["[2001:db8::7]:4711"], &proxies), ip("2001:db8::7"));
    assert_eq!(client_address(ip("10.0.0.2"), &["2001:db8::7"], &proxies), ip("2001:db8::7"));
}
