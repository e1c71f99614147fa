//! The one clock every service reads: the wall clock in service, a [`TestClock`] that moves only
//! when told to in tests, so any deadline, timer or follow-up can be tested by moving time.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// Now, as services see it. Services take a [`SharedClock`] at build time and never read the
/// wall clock themselves.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Now in microseconds since the Unix epoch (the storage representation of instants).
    fn now_micros(&self) -> i64 {
        self.now().timestamp_micros()
    }

    /// Whether time moves only when someone moves it (a [`TestClock`]): then a worker waiting for its
    /// next pass wakes as soon as the clock is moved rather than at its interval (wf-server's `pause`).
    fn is_manual(&self) -> bool {
        false
    }
}

/// A clock shared by every part of one service (handlers, consumers, workers).
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// The wall clock as a [`SharedClock`].
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told otherwise. Clones share one instant, so a test keeps a
/// clone and moves the clock the service holds.
#[derive(Debug, Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn at(instant: DateTime<Utc>) -> Self {
        Self::at_micros(instant.timestamp_micros())
    }

    pub fn at_micros(micros: i64) -> Self {
        Self(Arc::new(AtomicI64::new(micros)))
    }

    /// Stands at the wall clock's present instant.
    pub fn starting_now() -> Self {
        Self::at(Utc::now())
    }

    /// This clock as a [`SharedClock`] (sharing the same instant).
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }

    pub fn set(&self, instant: DateTime<Utc>) {
        self.set_micros(instant.timestamp_micros());
    }

    pub fn set_micros(&self, micros: i64) {
        self.0.store(micros, Ordering::SeqCst);
    }

    /// Moves the clock by `by` (saturating at the ends of the representable range).
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().unwrap_or(if by < Duration::zero() { i64::MIN } else { i64::MAX });
        let _ = self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| Some(now.saturating_add(micros)));
    }

    pub fn advance_days(&self, days: i64) {
        self.advance(Duration::days(days));
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        // A clock set past chrono's range stands at its end rather than failing.
        let micros = self.now_micros();
        DateTime::from_timestamp_micros(micros).unwrap_or(if micros < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
    }

    fn now_micros(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    fn is_manual(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_moves_only_when_told_and_clones_share_it() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let clock = TestClock::at(start);
        let held: SharedClock = clock.shared();
        assert_eq!(held.now(), start);
        clock.advance(Duration::hours(36) + Duration::seconds(1));
        assert_eq!(held.now(), start + Duration::hours(36) + Duration::seconds(1));
        assert_eq!(held.now_micros(), held.now().timestamp_micros());
        clock.advance_days(2);
        assert_eq!(held.now() - start, Duration::hours(84) + Duration::seconds(1));
        clock.set(start);
        assert_eq!(held.now(), start);
    }

    #[test]
    fn a_test_clock_saturates_instead_of_failing() {
        let clock = TestClock::at_micros(i64::MAX - 1);
        clock.advance(Duration::days(1));
        assert_eq!(clock.now_micros(), i64::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn the_system_clock_reads_the_wall_clock() {
        let before = Utc::now();
        let now = SystemClock.now();
        assert!(now >= before && now <= Utc::now());
        assert!((SystemClock.now_micros() - now.timestamp_micros()).abs() < 60_000_000);
    }
}
