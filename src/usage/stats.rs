//! Stats read from the hourly usage rollups, never from request_logs: totals over a window,
//! hourly or daily series (days in the configured time zone), top models and client keys.

use super::rollup::{hour_ceil, hour_start};
use crate::store::{RollupFilter, Store, StoreError, UsageTotals};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

const HOUR: i64 = 3600;

/// A time window in whole hours: `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

impl Window {
    /// Rounds outwards to whole hours (the rollups' resolution). Without `to`, the window ends
    /// with the current hour; without `from`, it is the 24 hours before `to`.
    pub fn around(
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Window {
        let to = match to {
            Some(t) => hour_ceil(t.timestamp()),
            None => hour_start(now) + HOUR,
        };
        let from = match from {
            Some(f) => hour_start(f),
            None => to - 24 * HOUR,
        };
        Window {
            from: at(from),
            to: at(to),
        }
    }

    /// The filter's time bounds set to this window.
    pub fn apply(&self, mut filter: RollupFilter) -> RollupFilter {
        filter.from = self.from.timestamp();
        filter.to = self.to.timestamp();
        filter
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hour,
    Day,
}

/// One period of a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub start: DateTime<Utc>,
    /// The local date (`limits.timezone`) of a daily point.
    pub day: Option<String>,
    pub totals: UsageTotals,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub window: Window,
    pub points: Vec<Point>,
}

/// When the local day `at` falls on began, in UTC.
fn day_start(tz: Tz, at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| tz.from_local_datetime(&midnight).earliest())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(at)
}

/// The starts of the last `count` periods up to and including the current one, oldest first,
/// and the end of the current one.
fn periods(
    granularity: Granularity,
    count: u32,
    tz: Tz,
    now: DateTime<Utc>,
) -> (Vec<DateTime<Utc>>, DateTime<Utc>) {
    match granularity {
        Granularity::Hour => {
            let end = hour_start(now) + HOUR;
            let starts = (1..=i64::from(count)).rev().map(|k| at(end - k * HOUR));
            (starts.collect(), at(end))
        }
        Granularity::Day => {
            let today = day_start(tz, now);
            // Days are 23 to 25 hours long: today's start plus 36 hours is always tomorrow.
            let end = day_start(tz, today + chrono::Duration::hours(36));
            let mut starts = vec![today];
            while starts.len() < count as usize {
                let Some(first) = starts.last().copied() else {
                    break;
                };
                starts.push(day_start(tz, first - chrono::Duration::seconds(1)));
            }
            starts.reverse();
            (starts, end)
        }
    }
}

/// Sums hourly rows into the periods; an hour belongs to the period its start falls in
/// (with a time zone whose offset is not whole hours, a day starts with its first whole hour).
fn fold(
    granularity: Granularity,
    tz: Tz,
    starts: &[DateTime<Utc>],
    hours: &[(i64, UsageTotals)],
) -> Vec<Point> {
    let mut points: Vec<Point> = starts
        .iter()
        .map(|s| Point {
            start: *s,
            day: (granularity == Granularity::Day)
                .then(|| s.with_timezone(&tz).format("%Y-%m-%d").to_string()),
            totals: UsageTotals::default(),
        })
        .collect();
    for (hour, totals) in hours {
        let i = starts.partition_point(|s| s.timestamp() <= *hour);
        if let Some(point) = i.checked_sub(1).and_then(|i| points.get_mut(i)) {
            point.totals.merge(totals);
        }
    }
    points
}

/// The last `count` hours or days (the current one included), every period present (zeros
/// where nothing happened), for the rollups the filter selects.
pub async fn series(
    store: &Store,
    filter: RollupFilter,
    granularity: Granularity,
    count: u32,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Series, StoreError> {
    let (starts, end) = periods(granularity, count, tz, now);
    let first = starts.first().copied().unwrap_or(end);
    let window = Window {
        from: at(hour_ceil(first.timestamp())),
        to: at(hour_ceil(end.timestamp())),
    };
    let hours = store.rollup_by_hour(&window.apply(filter)).await?;
    Ok(Series {
        window,
        points: fold(granularity, tz, &starts, &hours),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn requests(n: i64) -> UsageTotals {
        UsageTotals {
            requests: n,
            ..Default::default()
        }
    }

    #[test]
    fn windows_round_outwards_to_hours() {
        let now = utc(2026, 11, 22, 10, 30);
        let w = Window::around(None, None, now);
        assert_eq!(
            (w.from, w.to),
            (utc(2026, 11, 21, 11, 0), utc(2026, 11, 22, 11, 0))
        );
        let w = Window::around(
            Some(utc(2026, 11, 1, 5, 10)),
            Some(utc(2026, 11, 2, 5, 0)),
            now,
        );
        assert_eq!(
            (w.from, w.to),
            (utc(2026, 11, 1, 5, 0), utc(2026, 11, 2, 5, 0))
        );
    }

    #[test]
    fn days_follow_the_time_zone_and_dst() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // 2026-10-25 is the autumn change in Berlin (25 hours long).
        let now = utc(2026, 10, 26, 12, 0);
        let (starts, end) = periods(Granularity::Day, 3, tz, now);
        assert_eq!(
            starts,
            [
                utc(2026, 10, 23, 22, 0),
                utc(2026, 10, 24, 22, 0),
                utc(2026, 10, 25, 23, 0)
            ]
        );
        assert_eq!(end, utc(2026, 10, 26, 23, 0));
        let hours = [
            (utc(2026, 10, 23, 21, 0).timestamp(), requests(100)), // before the window
            (utc(2026, 10, 24, 21, 0).timestamp(), requests(1)),   // 23:00 on the 24th
            (utc(2026, 10, 24, 22, 0).timestamp(), requests(2)),   // 00:00 on the 25th
            (utc(2026, 10, 25, 22, 0).timestamp(), requests(4)),   // 23:00 on the 25th
            (utc(2026, 10, 26, 22, 0).timestamp(), requests(8)),   // 23:00 on the 26th
        ];
        let points = fold(Granularity::Day, tz, &starts, &hours);
        let got: Vec<(&str, i64)> = points
            .iter()
            .map(|p| (p.day.as_deref().unwrap(), p.totals.requests))
            .collect();
        assert_eq!(
            got,
            [("2026-10-24", 1), ("2026-10-25", 6), ("2026-10-26", 8)]
        );
    }

    #[test]
    fn hours_end_with_the_current_one() {
        let now = utc(2026, 11, 22, 10, 30);
        let (starts, end) = periods(Granularity::Hour, 48, chrono_tz::UTC, now);
        assert_eq!(starts.len(), 48);
        assert_eq!(starts[47], utc(2026, 11, 22, 10, 0));
        assert_eq!(end, utc(2026, 11, 22, 11, 0));
        let points = fold(
            Granularity::Hour,
            chrono_tz::UTC,
            &starts,
            &[(utc(2026, 11, 22, 10, 0).timestamp(), requests(3))],
        );
        assert_eq!(points[47].totals.requests, 3);
        assert!(points[47].day.is_none());
        assert_eq!(points.iter().map(|p| p.totals.requests).sum::<i64>(), 3);
    }
}
