//! Durations in human form: `90d`, `12h`, `30m`, `45s`, `2w`, and sums such as `1d12h`.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A span of time, stored in seconds. Months and years are not accepted because their length
/// varies: write `365d` or `397d`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

const UNITS: [(char, u64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl Duration {
    /// Seconds in this duration.
    pub fn seconds(self) -> u64 {
        self.0
    }

    /// A duration of `days` days.
    pub fn days(days: u64) -> Self {
        Self(days * 86_400)
    }
}

/// Why a duration did not parse.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration `{input}`: {reason}; expected a number and a unit (w, d, h, m, s), e.g. `90d`, `12h` or `1d12h`"
)]
pub struct ParseError {
    input: String,
    reason: &'static str,
}

impl FromStr for Duration {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Self, ParseError> {
        let fail = |reason| ParseError {
            input: input.to_owned(),
            reason,
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(fail("it is empty"));
        }
        let mut total: u64 = 0;
        let mut number = String::new();
        let mut last_unit = None;
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let Some(&(unit, seconds)) = UNITS.iter().find(|(u, _)| *u == c) else {
                return Err(match c {
                    'y' | 'M' => fail("months and years vary in length; use days"),
                    _ => fail("unknown unit"),
                });
            };
            if number.is_empty() {
                return Err(fail("a unit has no number before it"));
            }
            let rank = UNITS.iter().position(|(u, _)| *u == unit);
            let rank = rank.unwrap_or(0);
            if last_unit.is_some_and(|last| rank <= last) {
                return Err(fail("units must go from largest to smallest, each once"));
            }
            last_unit = Some(rank);
            let n: u64 = number
                .parse()
                .map_err(|_| fail("the number is too large"))?;
            total = n
                .checked_mul(seconds)
                .and_then(|s| total.checked_add(s))
                .ok_or_else(|| fail("the number is too large"))?;
            number.clear();
        }
        if !number.is_empty() {
            return Err(fail("the last number has no unit"));
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, seconds) in UNITS {
            // Weeks only when exact, so `90d` prints as `90d`, not `12w6d`.
            if unit == 'w' {
                continue;
            }
            if rest >= seconds {
                write!(f, "{}{unit}", rest / seconds)?;
                rest %= seconds;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The schema pattern shared by durations.
pub(crate) const PATTERN: &str = "^([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$";

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": PATTERN,
            "description": "A duration: numbers with units w, d, h, m, s from largest to smallest, e.g. `90d`, `12h`, `1d12h`.",
            "examples": ["90d", "12h", "30m"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Duration;

    #[test]
    fn parses_human_durations() {
        assert_eq!("90d".parse(), Ok(Duration(90 * 86_400)));
        assert_eq!("12h".parse(), Ok(Duration(12 * 3_600)));
        assert_eq!("30m".parse(), Ok(Duration(1_800)));
        assert_eq!("45s".parse(), Ok(Duration(45)));
        assert_eq!("2w".parse(), Ok(Duration(14 * 86_400)));
        assert_eq!("1d12h".parse(), Ok(Duration(36 * 3_600)));
        assert_eq!(" 0s ".parse(), Ok(Duration(0)));
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in [
            "",
            "90",
            "d",
            "1y",
            "3M",
            "12x",
            "1h1d",
            "1d1d",
            "-1d",
            "1.5d",
            "99999999999999999999d",
            "9999999999999999w",
        ] {
            let err = bad.parse::<Duration>().unwrap_err().to_string();
            assert!(err.contains("invalid duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn displays_round_trip() {
        for text in ["90d", "12h", "1d12h", "14d", "30m", "1h30m15s", "0s"] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.to_string(), text);
        }
    }
}
