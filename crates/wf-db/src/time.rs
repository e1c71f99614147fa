//! Instants are stored as microseconds since the Unix epoch (`BIGINT`), the one
//! representation both backends order and compare the same way.

use chrono::{DateTime, TimeZone, Utc};

pub fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub fn from_micros(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub fn now_micros() -> i64 {
    to_micros(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_microseconds() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap() + chrono::Duration::microseconds(7);
        assert_eq!(from_micros(to_micros(at)), at);
    }
}
