//! A key's usage as its charts show it: requests per UTC hour (last 24 hours) and per UTC day
//! (last 30 days), each split into succeeded, refused (by HTTP status) and rate limited. Built
//! from the hourly counters storage keeps; pure, so the bucketing is tested here.

use serde::{Deserialize, Serialize};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// Hours in the hourly chart and days in the daily one, the current one included.
pub const HOURS: i64 = 24;
pub const DAYS: i64 = 30;

/// One bar of a chart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageBucket {
    /// Start of the hour or day, Unix ms (UTC).
    pub start: i64,
    pub succeeded: u64,
    pub rate_limited: u64,
    /// Refusals other than rate limiting, by HTTP status, ascending.
    pub refused: Vec<(u16, u64)>,
}

impl UsageBucket {
    pub fn refused_total(&self) -> u64 {
        self.refused.iter().map(|(_, n)| n).sum()
    }

    pub fn total(&self) -> u64 {
        self.succeeded + self.rate_limited + self.refused_total()
    }

    fn add(&mut self, status: u16, n: u64) {
        match Outcome::of(status) {
            Outcome::Succeeded => self.succeeded += n,
            Outcome::RateLimited => self.rate_limited += n,
            Outcome::Refused => match self.refused.binary_search_by_key(&status, |(s, _)| *s) {
                Ok(i) => self.refused[i].1 += n,
                Err(i) => self.refused.insert(i, (status, n)),
            },
        }
    }
}

/// How a request ended, as the charts split them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Refused,
    RateLimited,
}

impl Outcome {
    pub fn of(status: u16) -> Self {
        match status {
            429 => Self::RateLimited,
            s if s < 400 => Self::Succeeded,
            _ => Self::Refused,
        }
    }
}

/// Both charts of one key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUsage {
    /// [`HOURS`] buckets, oldest first, the last one the current hour.
    pub hourly: Vec<UsageBucket>,
    /// [`DAYS`] buckets, oldest first, the last one today.
    pub daily: Vec<UsageBucket>,
}

impl KeyUsage {
    /// Buckets `(hour start, status, count)` counter rows at `now`; rows outside both windows
    /// are ignored.
    pub fn build(rows: &[(i64, u16, u64)], now: i64) -> Self {
        let this_hour = floor(now, HOUR_MS);
        let today = floor(now, DAY_MS);
        let mut hourly = series(this_hour, HOUR_MS, HOURS);
        let mut daily = series(today, DAY_MS, DAYS);
        for &(hour, status, n) in rows {
            if let Some(b) = slot(&mut hourly, this_hour, HOUR_MS, hour) {
                b.add(status, n);
            }
            if let Some(b) = slot(&mut daily, today, DAY_MS, hour) {
                b.add(status, n);
            }
        }
        Self { hourly, daily }
    }

    /// The earliest hour either chart shows (what storage must read from).
    pub fn since(now: i64) -> i64 {
        floor(now, DAY_MS) - (DAYS - 1) * DAY_MS
    }

    pub fn last_24h(&self) -> u64 {
        self.hourly.iter().map(UsageBucket::total).sum()
    }
}

/// The first hour the "last 24 h" count of the keys list includes.
pub fn last_24h_since(now: i64) -> i64 {
    floor(now, HOUR_MS) - (HOURS - 1) * HOUR_MS
}

fn floor(at: i64, unit: i64) -> i64 {
    at - at.rem_euclid(unit)
}

fn series(last: i64, unit: i64, n: i64) -> Vec<UsageBucket> {
    (0..n)
        .map(|i| UsageBucket {
            start: last - (n - 1 - i) * unit,
            ..Default::default()
        })
        .collect()
}

fn slot(buckets: &mut [UsageBucket], last: i64, unit: i64, at: i64) -> Option<&mut UsageBucket> {
    let back = (last - floor(at, unit)) / unit;
    let n = i64::try_from(buckets.len()).ok()?;
    if !(0..n).contains(&back) {
        return None;
    }
    buckets.get_mut(usize::try_from(n - 1 - back).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000_000 + 25 * 60_000; // some minutes into an hour

    #[test]
    fn statuses_split_into_outcomes() {
        for (status, outcome) in [
            (200, Outcome::Succeeded),
            (201, Outcome::Succeeded),
            (304, Outcome::Succeeded),
            (401, Outcome::Refused),
            (403, Outcome::Refused),
            (404, Outcome::Refused),
            (429, Outcome::RateLimited),
            (500, Outcome::Refused),
        ] {
            assert_eq!(Outcome::of(status), outcome, "{status}");
        }
    }

    #[test]
    fn rows_land_in_their_hour_and_day() {
        let this_hour = floor(NOW, HOUR_MS);
        let rows = [
            (this_hour, 200, 5),
            (this_hour, 403, 2),
            (this_hour, 401, 1),
            (this_hour, 403, 1),
            (this_hour - HOUR_MS, 429, 3),
            (this_hour - 23 * HOUR_MS, 200, 7),
            // Older than the hourly chart, still in the daily one.
            (this_hour - 24 * HOUR_MS, 200, 11),
            // Older than both.
            (floor(NOW, DAY_MS) - 30 * DAY_MS, 200, 1000),
        ];
        let u = KeyUsage::build(&rows, NOW);
        assert_eq!(u.hourly.len(), 24);
        assert_eq!(u.daily.len(), 30);
        let last = u.hourly.last().expect("hour");
        assert_eq!(last.start, this_hour);
        assert_eq!(last.succeeded, 5);
        assert_eq!(last.refused, vec![(401, 1), (403, 3)]);
        assert_eq!(u.hourly[22].rate_limited, 3);
        assert_eq!(u.hourly[0].succeeded, 7);
        assert_eq!(u.last_24h(), 5 + 4 + 3 + 7);
        let days: u64 = u.daily.iter().map(UsageBucket::total).sum();
        assert_eq!(days, 5 + 4 + 3 + 7 + 11);
        assert_eq!(u.daily.last().expect("day").start, floor(NOW, DAY_MS));
        assert!(KeyUsage::since(NOW) <= this_hour - 24 * HOUR_MS);
        assert_eq!(last_24h_since(NOW), this_hour - 23 * HOUR_MS);
    }
}
