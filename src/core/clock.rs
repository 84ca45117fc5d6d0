//! Time, injectable so that tests can move it (expiry, replay windows) without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime, format_description::FormatItem, macros::format_description};

/// The one timestamp format usher stores and SOLAPI shows: fixed-width RFC 3339 UTC with
/// milliseconds. Fixed width makes lexical order equal time order, on both databases.
const MILLIS_Z: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A source of "now". The real one reads the system clock; tests shift it.
#[derive(Debug, Default)]
pub struct Clock {
    /// Added to the system time; only tests change it.
    offset_millis: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
            + Duration::milliseconds(self.offset_millis.load(Ordering::Relaxed))
    }

    /// Moves this clock forward (tests of expiry and of signature windows).
    pub fn advance(&self, by: Duration) {
        self.offset_millis
            .fetch_add(by.whole_milliseconds() as i64, Ordering::Relaxed);
    }

    pub fn now_ts(&self) -> String {
        format_ts(self.now())
    }
}

pub fn format_ts(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(MILLIS_Z)
        .expect("a UTC timestamp always formats")
}

/// Parses a stored timestamp (the format [`format_ts`] writes).
pub fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(s, MILLIS_Z)
        .ok()
        .map(|t| t.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_millis_in_utc() {
        let t = time::macros::datetime!(2020-09-23 03:40:16.8 UTC);
        assert_eq!(format_ts(t), "2020-09-23T03:40:16.800Z");
        assert_eq!(parse_ts("2020-09-23T03:40:16.800Z"), Some(t));
    }

    #[test]
    fn an_advanced_clock_is_later() {
        let c = Clock::default();
        let before = c.now();
        c.advance(Duration::days(31));
        assert!(c.now() - before >= Duration::days(31));
    }
}
