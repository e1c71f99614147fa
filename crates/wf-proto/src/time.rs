//! Conversions between `google.protobuf.Timestamp` and the instants the services
//! use (chrono, or BIGINT microseconds as stored).

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

/// The timestamp of an instant.
pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// The timestamp of microseconds since the epoch (also before it).
pub fn timestamp_from_micros(micros: i64) -> Timestamp {
    Timestamp { seconds: micros.div_euclid(1_000_000), nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32 }
}

/// The instant of a timestamp; `None` when out of range or the nanos are invalid.
pub fn datetime(timestamp: &Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(timestamp.nanos).ok().filter(|n| *n < 1_000_000_000)?;
    DateTime::from_timestamp(timestamp.seconds, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_before_and_after_the_epoch() {
        assert_eq!(timestamp_from_micros(1_500_000), Timestamp { seconds: 1, nanos: 500_000_000 });
        assert_eq!(timestamp_from_micros(-1), Timestamp { seconds: -1, nanos: 999_999_000 });
    }

    #[test]
    fn round_trip_and_invalid_nanos() {
        let at = DateTime::from_timestamp(1_764_000_000, 123_456_789).expect("valid");
        assert_eq!(datetime(&timestamp(at)), Some(at));
        assert_eq!(datetime(&Timestamp { seconds: 0, nanos: -1 }), None);
        assert_eq!(datetime(&Timestamp { seconds: 0, nanos: 1_000_000_000 }), None);
    }
}
