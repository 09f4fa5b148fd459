//! Cron schedules for renewal windows: five fields (minute, hour, day of month, month, day of
//! week) with `*`, lists, ranges, steps and names, plus `@hourly`, `@daily`, `@weekly`,
//! `@monthly` and `@yearly`. As in Vixie cron, when both day of month and day of week are
//! restricted a day matches either.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;

/// A parsed cron schedule. Each field is a bit set of the values it allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    text: String,
    minutes: u64,
    hours: u32,
    days_of_month: u32,
    months: u16,
    days_of_week: u8,
    dom_restricted: bool,
    dow_restricted: bool,
}

/// Why a schedule did not parse.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid schedule `{input}`: {reason}; expected five cron fields `minute hour day-of-month month day-of-week`, e.g. `0 2 * * SAT`, or @daily/@weekly/@monthly"
)]
pub struct ParseError {
    input: String,
    reason: String,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
    },
    Field {
        name: "day of week",
        min: 0,
        max: 7,
        names: &DAYS,
    },
];

impl Field {
    fn value(&self, text: &str) -> Result<u32, String> {
        let lower = text.to_ascii_lowercase();
        if let Some(i) = self.names.iter().position(|n| *n == lower) {
            let i = u32::try_from(i).unwrap_or(0);
            return Ok(if self.min == 1 { i + 1 } else { i });
        }
        let n: u32 = text
            .parse()
            .map_err(|_| format!("{} `{text}` is not a number", self.name))?;
        if n < self.min || n > self.max {
            return Err(format!(
                "{} {n} is outside {}-{}",
                self.name, self.min, self.max
            ));
        }
        Ok(n)
    }

    /// Parses one field into a bit set; the flag says whether it restricts (is not `*`).
    fn parse(&self, text: &str) -> Result<(u64, bool), String> {
        let mut bits = 0u64;
        for part in text.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => {
                    let step: u32 = s.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("{} step `{s}` is not a positive number", self.name)
                    })?;
                    (r, step)
                }
                None => (part, 1),
            };
            let (lo, hi) = match range {
                "*" => (self.min, self.max),
                _ => match range.split_once('-') {
                    Some((a, b)) => (self.value(a)?, self.value(b)?),
                    None if step > 1 => (self.value(range)?, self.max),
                    None => {
                        let v = self.value(range)?;
                        (v, v)
                    }
                },
            };
            if lo > hi {
                return Err(format!("{} range `{range}` runs backwards", self.name));
            }
            for v in (lo..=hi).step_by(step as usize) {
                bits |= 1 << v;
            }
        }
        Ok((bits, text != "*"))
    }
}

impl std::str::FromStr for Schedule {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Self, ParseError> {
        let expanded = match input.trim() {
            "@hourly" => "0 * * * *",
            "@daily" | "@midnight" => "0 0 * * *",
            "@weekly" => "0 0 * * 0",
            "@monthly" => "0 0 1 * *",
            "@yearly" | "@annually" => "0 0 1 1 *",
            other => other,
        };
        let fail = |reason: String| ParseError {
            input: input.to_owned(),
            reason,
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(fail(format!("it has {} fields", parts.len())));
        }
        let mut sets = [(0u64, false); 5];
        for (i, (field, text)) in FIELDS.iter().zip(&parts).enumerate() {
            sets[i] = field.parse(text).map_err(fail)?;
        }
        // Day of week 7 is Sunday, like 0.
        let mut dow = sets[4].0;
        if dow & (1 << 7) != 0 {
            dow = (dow | 1) & 0x7f;
        }
        let narrow = |bits: u64| u32::try_from(bits).unwrap_or(u32::MAX);
        Ok(Self {
            text: input.trim().to_owned(),
            minutes: sets[0].0,
            hours: narrow(sets[1].0),
            days_of_month: narrow(sets[2].0),
            months: u16::try_from(sets[3].0).unwrap_or(u16::MAX),
            days_of_week: u8::try_from(dow).unwrap_or(u8::MAX),
            dom_restricted: sets[2].1,
            dow_restricted: sets[4].1,
        })
    }
}

impl Schedule {
    /// The schedule as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// False when no real date ever matches (e.g. `0 0 30 2 *`, 30 February). Only day of
    /// month against month can be impossible: with a day of week restricted too, either match.
    pub fn can_match(&self) -> bool {
        if !self.dom_restricted || self.dow_restricted {
            return true;
        }
        // Longest each month can be (February in a leap year).
        const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        (1..=12u32).any(|m| {
            self.months & (1 << m) != 0
                && (1..=LONGEST[m as usize - 1]).any(|d| self.days_of_month & (1 << d) != 0)
        })
    }

    fn matches_date(&self, date: Date) -> bool {
        let month = u32::try_from(date.month()).unwrap_or(0);
        if self.months & (1 << month) == 0 {
            return false;
        }
        let dom = self.days_of_month & (1 << u32::try_from(date.day()).unwrap_or(0)) != 0;
        let dow = self.days_of_week & (1 << date.weekday().to_sunday_zero_offset()) != 0;
        match (self.dom_restricted, self.dow_restricted) {
            (true, true) => dom || dow,
            _ => dom && dow,
        }
    }

    /// The first start strictly after `after`, in time zone `tz`; `None` when the schedule
    /// cannot match within eight years (then it never does).
    pub fn next_start(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let mut date = after.to_zoned_datetime(tz.clone()).date();
        for _ in 0..(8 * 366) {
            if self.matches_date(date) {
                for hour in (0..24i8).filter(|h| self.hours & (1 << h) != 0) {
                    for minute in (0..60i8).filter(|m| self.minutes & (1 << m) != 0) {
                        let time = Time::new(hour, minute, 0, 0).ok()?;
                        let zoned = tz
                            .to_ambiguous_zoned_datetime(DateTime::from_parts(date, time))
                            .compatible()
                            .ok()?;
                        if zoned.timestamp() > after {
                            return Some(zoned.timestamp());
                        }
                    }
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The first start at or after `from`.
    pub fn first_start(&self, from: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        self.next_start(from.checked_sub(1.nanosecond()).ok()?, tz)
    }

    /// The start of the window that contains `at`, when a window of `length` seconds opened
    /// at a start of this schedule is open at `at`. A window is open from its start to its
    /// closing instant, both included (as cert-manager's renewal windows).
    pub fn open_window(&self, at: Timestamp, length: u64, tz: &TimeZone) -> Option<Timestamp> {
        let length = i64::try_from(length).ok()?;
        let start = self.first_start(at.checked_sub(length.seconds()).ok()?, tz)?;
        (start <= at).then_some(start)
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for Schedule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl JsonSchema for Schedule {
    fn schema_name() -> Cow<'static, str> {
        "Schedule".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A cron schedule: `minute hour day-of-month month day-of-week` (names like SAT and JAN allowed), or @hourly, @daily, @weekly, @monthly, @yearly.",
            "examples": ["0 2 * * SAT", "30 1 1-7 * MON"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn parses_fields_ranges_steps_and_names() {
        let s: Schedule = "*/15 2-4 * JAN,jul sat".parse().unwrap();
        assert_eq!(s.minutes, 1 | 1 << 15 | 1 << 30 | 1 << 45);
        assert_eq!(s.hours, 1 << 2 | 1 << 3 | 1 << 4);
        assert_eq!(s.months, 1 << 1 | 1 << 7);
        assert_eq!(s.days_of_week, 1 << 6);
        assert_eq!("0 0 * * 7".parse::<Schedule>().unwrap().days_of_week, 1);
    }

    #[test]
    fn rejects_malformed_schedules() {
        for bad in [
            "",
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "5-1 * * * *",
            "*/0 * * * *",
            "x * * * *",
            "@sometimes",
        ] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn detects_impossible_dates() {
        assert!(!"0 0 30 2 *".parse::<Schedule>().unwrap().can_match());
        assert!(!"0 0 31 4,6,9,11 *".parse::<Schedule>().unwrap().can_match());
        assert!("0 0 29 2 *".parse::<Schedule>().unwrap().can_match());
        // Vixie cron ORs day of month and day of week, so this matches every Monday.
        assert!("0 0 30 2 MON".parse::<Schedule>().unwrap().can_match());
    }

    #[test]
    fn finds_next_start_in_time_zone() {
        let s: Schedule = "0 2 * * SAT".parse().unwrap();
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // Wednesday 2026-11-25 12:00 UTC → Saturday 2026-11-28 02:00 CET = 01:00 UTC.
        assert_eq!(
            s.next_start(at("2026-11-25T12:00:00Z"), &berlin),
            Some(at("2026-11-28T01:00:00Z"))
        );
        assert_eq!(
            s.next_start(at("2026-11-25T12:00:00Z"), &TimeZone::UTC),
            Some(at("2026-11-28T02:00:00Z"))
        );
        let leap: Schedule = "0 0 29 2 *".parse().unwrap();
        assert_eq!(
            leap.next_start(at("2026-11-25T00:00:00Z"), &TimeZone::UTC),
            Some(at("2028-02-29T00:00:00Z"))
        );
    }

    #[test]
    fn knows_whether_a_window_is_open() {
        let s: Schedule = "0 2 * * SAT".parse().unwrap();
        let four_hours = 4 * 3600;
        let utc = TimeZone::UTC;
        assert_eq!(
            s.open_window(at("2026-11-28T03:59:00Z"), four_hours, &utc),
            Some(at("2026-11-28T02:00:00Z"))
        );
        // The closing instant belongs to the window; a nanosecond later does not.
        assert_eq!(
            s.open_window(at("2026-11-28T06:00:00Z"), four_hours, &utc),
            Some(at("2026-11-28T02:00:00Z"))
        );
        assert_eq!(
            s.open_window(at("2026-11-28T06:00:00.000000001Z"), four_hours, &utc),
            None
        );
        assert_eq!(
            s.open_window(at("2026-11-28T02:00:00Z"), four_hours, &utc),
            Some(at("2026-11-28T02:00:00Z"))
        );
        assert_eq!(
            s.open_window(at("2026-11-27T03:00:00Z"), four_hours, &utc),
            None
        );
    }
}
