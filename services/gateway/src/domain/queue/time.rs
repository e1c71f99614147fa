//! Deadlines as people read them: the clock time in Los Angeles (the program's time zone, daylight
//! saving included, from the time zone database bundled with the binary) and a countdown computed on
//! the server at the moment the page is made. Instants are microseconds since the Unix epoch.

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The program's time zone.
pub const ZONE: &str = "America/Los_Angeles";

/// A deadline this close or closer reads as soon (UI.md: announcements at 30, 15 and 5 minutes).
pub const SOON_MINUTES: i64 = 30;

static PACIFIC: LazyLock<TimeZone> = LazyLock::new(|| {
    // The database is compiled in (jiff's `tzdb-bundle-always`), so the zone is always found; the
    // fallback only keeps a page from failing should a build ever leave it out (times then read UTC).
    TimeZone::get(ZONE).unwrap_or(TimeZone::UTC)
});

fn zoned(micros: i64) -> Option<jiff::ZonedDateTime> {
    Timestamp::from_microsecond(micros).ok().map(|at| at.to_zoned_datetime(PACIFIC.clone()))
}

/// `at` as Los Angeles clock time: "2:35 PM PDT" on the day of `now`, else with its date
/// ("Tue Mar 12, 2:35 PM PDT"; the year too when it is not `now`'s).
pub fn clock_time(at: i64, now: i64) -> String {
    let (Some(at), Some(now)) = (zoned(at), zoned(now)) else { return String::new() };
    let format = if at.date() == now.date() {
        "%-I:%M %p %Z"
    } else if at.year() == now.year() {
        "%a %b %-d, %-I:%M %p %Z"
    } else {
        "%a %b %-d %Y, %-I:%M %p %Z"
    };
    at.strftime(format).to_string()
}

/// `at` as a date and clock time, whatever the day ("Mar 12 2025, 2:35 PM PDT"), for histories.
pub fn date_time(at: i64) -> String {
    zoned(at).map(|at| at.strftime("%b %-d %Y, %-I:%M %p %Z").to_string()).unwrap_or_default()
}

/// `at` for `<time datetime>`: RFC 3339 with the Los Angeles offset.
pub fn machine_time(at: i64) -> String {
    zoned(at).map(|at| at.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()).unwrap_or_default()
}

/// How close a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Overdue,
    /// Within [`SOON_MINUTES`].
    Soon,
    Later,
}

impl Urgency {
    /// The CSS modifier (`deadline deadline--overdue`): colour always beside the words.
    pub fn class(self) -> &'static str {
        match self {
            Urgency::Overdue => "deadline--overdue",
            Urgency::Soon => "deadline--soon",
            Urgency::Later => "deadline--later",
        }
    }
}

/// A deadline's countdown as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Countdown {
    /// "due in 47 min", "overdue by 12 min", "due now".
    pub text: String,
    pub urgency: Urgency,
}

/// The countdown to `deadline` at `now`. Whole minutes, rounded away from now, so a deadline
/// 30 seconds off reads "due in 1 min" and one passed 30 seconds ago "overdue by 1 min"; only the
/// exact instant reads "due now".
pub fn countdown(deadline: i64, now: i64) -> Countdown {
    let left = deadline.saturating_sub(now);
    let minutes = i64::try_from(left.unsigned_abs().div_ceil(60_000_000)).unwrap_or(i64::MAX);
    if left < 0 {
        return Countdown { text: format!("overdue by {}", span(minutes)), urgency: Urgency::Overdue };
    }
    if minutes == 0 {
        return Countdown { text: "due now".to_owned(), urgency: Urgency::Soon };
    }
    let urgency = if minutes <= SOON_MINUTES { Urgency::Soon } else { Urgency::Later };
    Countdown { text: format!("due in {}", span(minutes)), urgency }
}

/// Minutes as "47 min", "3 h 5 min", "2 days 4 h" (coarser the further off).
pub fn span(minutes: i64) -> String {
    let (days, hours, mins) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    match (days, hours, mins) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} {}", if d == 1 { "day" } else { "days" }),
        (d, h, _) => format!("{d} {} {h} h", if d == 1 { "day" } else { "days" }),
    }
}

/// A `datetime-local` form value ("2026-03-12T14:35", seconds optional) read as Los Angeles clock
/// time. In the hour a clock falls back it is the earlier of the two instants; a time skipped when
/// clocks spring forward reads as the instant an hour later. `None` for anything else.
pub fn parse_local_time(value: &str) -> Option<i64> {
    let civil: jiff::civil::DateTime = value.trim().parse().ok()?;
    let at = civil.to_zoned_datetime(PACIFIC.clone()).ok()?;
    Some(at.timestamp().as_microsecond())
}

/// A `date` form value ("2026-03-12") as the instant its Los Angeles day ends (midnight that
/// starts the next day), so "expires on March 12" holds through the whole of March 12.
pub fn end_of_local_day(value: &str) -> Option<i64> {
    let date: jiff::civil::Date = value.trim().parse().ok()?;
    let next = date.tomorrow().ok()?;
    let at = next.to_zoned_datetime(PACIFIC.clone()).ok()?;
    Some(at.timestamp().as_microsecond())
}

/// `at` as a `datetime-local` value in Los Angeles ("2026-03-12T14:35"), for a form's default.
pub fn local_input(at: i64) -> String {
    zoned(at).map(|at| at.strftime("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

/// `at`'s Los Angeles date as a `date` value ("2026-03-12").
pub fn local_date_input(at: i64) -> String {
    zoned(at).map(|at| at.strftime("%Y-%m-%d").to_string()).unwrap_or_default()
}
