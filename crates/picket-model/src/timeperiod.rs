//! The `ranges` of TimePeriod and ScheduledDowntime objects.
//!
//! Keys name days in the legacy (Nagios) syntax Icinga accepts: a weekday
//! (`monday`), the nth weekday of a month (`monday 1`, `monday -1 may`), a
//! day of a month (`january 1`, `day -1`), a date (`2024-12-24`), ranges of
//! those (`monday 1 - thursday 4`, `july 10 - 15`) and strides
//! (`day 1 - 31 / 2`). Values are comma-separated `HH:MM-HH:MM` ranges.
//! This module parses both and words its errors as Icinga does; the
//! scheduler evaluates the parsed form.

use chrono::{Datelike, NaiveDate, NaiveDateTime};

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// One day (or a family of days) as a range key names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaySpec {
    /// Every such weekday (0 = Sunday).
    Weekday(u32),
    /// The nth such weekday of every month, or of one month (counting from
    /// the end when negative).
    NthWeekday {
        weekday: u32,
        n: i32,
        month: Option<u32>,
    },
    /// A day of one month (1-based month), from the end when negative.
    MonthDay {
        month: u32,
        day: i32,
    },
    /// A day of every month, from the end when negative.
    Day(i32),
    Date {
        year: i32,
        month: u32,
        day: u32,
    },
}

/// A range key: a day, or the days from `begin` to `end`, every `stride`th.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRange {
    pub begin: DaySpec,
    pub end: Option<DaySpec>,
    pub stride: Option<u32>,
}

fn integer(text: &str) -> Result<i32, String> {
    text.parse::<i32>()
        .map_err(|_| format!("Can't convert '{text}' to an integer."))
}

fn date(spec: &str) -> Option<Result<DaySpec, String>> {
    let b = spec.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    let year = spec[0..4].parse().unwrap_or(0);
    let month: u32 = spec[5..7].parse().unwrap_or(0);
    let day: u32 = spec[8..10].parse().unwrap_or(0);
    if !(1..=12).contains(&month) {
        return Some(Err(format!("Invalid month in time specification: {spec}")));
    }
    Some(Ok(DaySpec::Date { year, month, day }))
}

/// One day specification (no range, no stride).
pub fn parse_day_spec(spec: &str) -> Result<DaySpec, String> {
    if let Some(d) = date(spec) {
        return d;
    }
    let invalid = || format!("Invalid time specification: {spec}");
    let tokens: Vec<&str> = spec.split(' ').collect();
    let weekday = WEEKDAYS.iter().position(|w| *w == tokens[0]);
    let month = MONTHS.iter().position(|m| *m == tokens[0]);
    match (tokens.as_slice(), weekday, month) {
        (["day", n], _, _) => Ok(DaySpec::Day(integer(n)?)),
        ([_], Some(w), _) => Ok(DaySpec::Weekday(w as u32)),
        ([_, n], Some(w), _) => Ok(DaySpec::NthWeekday {
            weekday: w as u32,
            n: integer(n)?,
            month: None,
        }),
        ([_, n, m], Some(w), _) => {
            let n = integer(n)?;
            let month = MONTHS
                .iter()
                .position(|x| x == m)
                .ok_or_else(|| format!("Invalid month in time specification: {spec}"))?;
            Ok(DaySpec::NthWeekday {
                weekday: w as u32,
                n,
                month: Some(month as u32 + 1),
            })
        }
        ([_, d], _, Some(m)) => Ok(DaySpec::MonthDay {
            month: m as u32 + 1,
            day: integer(d)?,
        }),
        _ => Err(invalid()),
    }
}

/// The end of a range: a full specification, or just a number that takes
/// the form of the beginning (`july 10 - 15`, `day 1 - 15`).
fn parse_range_end(begin: &DaySpec, end: &str) -> Result<DaySpec, String> {
    if let Ok(n) = end.parse::<i32>() {
        return Ok(match begin {
            DaySpec::Day(_) => DaySpec::Day(n),
            DaySpec::MonthDay { month, .. } => DaySpec::MonthDay {
                month: *month,
                day: n,
            },
            DaySpec::NthWeekday { weekday, month, .. } => DaySpec::NthWeekday {
                weekday: *weekday,
                n,
                month: *month,
            },
            _ => return Err(format!("Invalid time specification: {end}")),
        });
    }
    parse_day_spec(end)
}

/// A whole range key; the error is the inner part of Icinga's message.
pub fn parse_day_range(key: &str) -> Result<DayRange, String> {
    let (def, stride) = match key.split_once('/') {
        Some((def, stride)) => (def, Some(integer(stride.trim())?.max(0) as u32)),
        None => (key, None),
    };
    match def.split_once(" - ") {
        Some((begin, end)) => {
            let begin = parse_day_spec(begin.trim())?;
            let end = parse_range_end(&begin, end.trim())?;
            Ok(DayRange {
                begin,
                end: Some(end),
                stride,
            })
        }
        None => Ok(DayRange {
            begin: parse_day_spec(def)?,
            end: None,
            stride,
        }),
    }
}

/// `HH:MM` or `HH:MM:SS`, as seconds after midnight. Hours past 24 are
/// taken as Icinga takes them: as times of the next day.
fn parse_clock(text: &str) -> Result<u32, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (h, m, None),
        [h, m, s] => (h, m, Some(s)),
        _ => return Err(format!("Invalid time specification: {text}")),
    };
    let seconds = match s {
        Some(s) => integer(s.trim())?.max(0) as u32,
        None => 0,
    };
    let h = integer(h.trim())?.max(0) as u32;
    let m = integer(m.trim())?.max(0) as u32;
    Ok(h * 3600 + m * 60 + seconds)
}

/// A range value: `HH:MM-HH:MM[,HH:MM:SS-HH:MM:SS...]`, as seconds after
/// the day's midnight. A range that ends at or before its beginning ends
/// on the next day (`22:00-06:00`; `10:00-10:00` lasts a whole day), as in
/// Icinga.
pub fn parse_time_ranges(value: &str) -> Result<Vec<(u32, u32)>, String> {
    value
        .split(',')
        .map(|part| {
            let (begin, end) = part
                .split_once('-')
                .ok_or_else(|| format!("Invalid timerange: {part}"))?;
            let begin = parse_clock(begin)?;
            let mut end = parse_clock(end)?;
            if begin >= end {
                end += 24 * 3600;
            }
            Ok((begin, end))
        })
        .collect()
}

/// Checks a `ranges` dictionary, returning Icinga's message for the first
/// bad entry.
pub fn validate_ranges(ranges: &picket_lang::Dict) -> Result<(), String> {
    for (key, value) in ranges.entries() {
        parse_day_range(&key).map_err(|e| format!("Invalid time specification '{key}': {e}"))?;
        let value = value.to_display();
        parse_time_ranges(&value)
            .map_err(|e| format!("Invalid time range definition '{value}': {e}"))?;
    }
    Ok(())
}

/// A parsed `ranges` dictionary, ready to be asked whether a moment is in
/// it. Entries that do not parse were refused by validation already and
/// are left out.
#[derive(Debug, Clone, Default)]
pub struct Ranges {
    entries: Vec<(DayRange, Vec<(u32, u32)>)>,
}

impl Ranges {
    pub fn parse(ranges: &picket_lang::Dict) -> Ranges {
        let entries = ranges
            .entries()
            .into_iter()
            .filter_map(|(key, value)| {
                let days = parse_day_range(&key).ok()?;
                let times = parse_time_ranges(&value.to_display()).ok()?;
                Some((days, times))
            })
            .collect();
        Ranges { entries }
    }

    /// The segments Icinga's `LegacyTimePeriod` gives for the window from
    /// `begin` to `end` (seconds since the epoch): the ranges of every day
    /// whose midnight lies between the midnight of `begin`'s day and `end`,
    /// keys in sorted order. Days are matched as Icinga 2.13 matches them
    /// (`DayRange::holds_on`).
    pub fn segments(&self, begin: f64, end: f64) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let Some(mut day) = local_date(begin) else {
            return out;
        };
        while local_timestamp(day, 0).is_some_and(|midnight| midnight <= end) {
            for (days, times) in &self.entries {
                if !days.holds_on(day) {
                    continue;
                }
                for (b, e) in times {
                    if let (Some(b), Some(e)) = (local_timestamp(day, *b), local_timestamp(day, *e))
                    {
                        if b < e {
                            out.push((b, e));
                        }
                    }
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        out
    }
}

/// The local date of a timestamp.
fn local_date(ts: f64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(ts.floor() as i64, 0)
        .map(|t| t.with_timezone(&chrono::Local).date_naive())
}

/// The timestamp `seconds` after the local midnight of `day`, counted as
/// `mktime` counts a time of day: hours past 24 run into the next day, and
/// a time skipped by a change to summer time is taken an hour later.
fn local_timestamp(day: NaiveDate, seconds: u32) -> Option<f64> {
    use chrono::TimeZone;
    let at = day.and_hms_opt(0, 0, 0)? + chrono::Duration::seconds(i64::from(seconds));
    let local = chrono::Local
        .from_local_datetime(&at)
        .earliest()
        .or_else(|| {
            chrono::Local
                .from_local_datetime(&(at + chrono::Duration::hours(1)))
                .earliest()
        })?;
    Some(local.timestamp() as f64)
}

impl Ranges {
    /// The segments of the days from `at`'s to a week later, in local
    /// time.
    fn segments_around(
        &self,
        at: NaiveDateTime,
    ) -> impl Iterator<Item = (NaiveDateTime, NaiveDateTime)> + '_ {
        (0..8u64).flat_map(move |offset| {
            let date = at.date() + chrono::Days::new(offset);
            let midnight = date.and_hms_opt(0, 0, 0);
            self.entries
                .iter()
                .filter(move |(days, _)| days.contains(date))
                .flat_map(move |(_, times)| {
                    times.iter().filter_map(move |(begin, end)| {
                        let midnight = midnight?;
                        Some((
                            midnight + chrono::Duration::seconds(i64::from(*begin)),
                            midnight + chrono::Duration::seconds(i64::from(*end)),
                        ))
                    })
                })
        })
    }

    /// The segment running at `at` (started before it, not yet over) that
    /// lasts longest, ending after `min_end` when given.
    pub fn running_segment(
        &self,
        at: NaiveDateTime,
        min_end: Option<NaiveDateTime>,
    ) -> Option<(NaiveDateTime, NaiveDateTime)> {
        self.segments_around(at)
            .filter(|(start, end)| *start < at && *end >= at)
            .filter(|(_, end)| min_end.is_none_or(|m| *end > m))
            .max_by_key(|(_, end)| *end)
    }

    /// The segment that starts next, at `at` or later, within a week.
    pub fn next_segment(&self, at: NaiveDateTime) -> Option<(NaiveDateTime, NaiveDateTime)> {
        self.segments_around(at)
            .filter(|(start, _)| *start >= at)
            .min_by_key(|(start, _)| *start)
    }
}

/// The month `offset` months after the one of `(year, month)`.
fn add_months(year: i32, month: u32, offset: i32) -> (i32, u32) {
    let index = year * 12 + month as i32 - 1 + offset;
    (index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = add_months(year, month, 1);
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// Day `n` of a month, counting from the end when negative (-1 = last).
fn month_day(year: i32, month: u32, n: i32) -> Option<NaiveDate> {
    let day = if n < 0 {
        days_in_month(year, month) as i32 + 1 + n
    } else {
        n
    };
    NaiveDate::from_ymd_opt(year, month, u32::try_from(day).ok()?)
}

/// The nth `weekday` (0 = Sunday) of a month, from the end when negative.
fn nth_weekday(year: i32, month: u32, weekday: u32, n: i32) -> Option<NaiveDate> {
    if n > 0 {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let shift = (weekday + 7 - first.weekday().num_days_from_sunday()) % 7;
        let day = 1 + shift + 7 * (n as u32 - 1);
        NaiveDate::from_ymd_opt(year, month, day)
    } else if n < 0 {
        let last = month_day(year, month, -1)?;
        let shift = (last.weekday().num_days_from_sunday() + 7 - weekday) % 7;
        let back = shift + 7 * (n.unsigned_abs() - 1);
        let day = last.day().checked_sub(back)?;
        NaiveDate::from_ymd_opt(year, month, day)
    } else {
        None
    }
}

impl DaySpec {
    /// Whether the spec repeats every month (else every year, or never).
    fn monthly(&self) -> bool {
        matches!(
            self,
            DaySpec::Day(_) | DaySpec::NthWeekday { month: None, .. }
        )
    }

    /// The day the spec names in the month (or year) of `(year, month)`.
    fn resolve(&self, year: i32, month: u32) -> Option<NaiveDate> {
        match *self {
            DaySpec::Weekday(_) => None,
            DaySpec::NthWeekday {
                weekday,
                n,
                month: m,
            } => nth_weekday(year, m.unwrap_or(month), weekday, n),
            DaySpec::MonthDay { month: m, day } => month_day(year, m, day),
            DaySpec::Day(n) => month_day(year, month, n),
            DaySpec::Date { year, month, day } => NaiveDate::from_ymd_opt(year, month, day),
        }
    }
}

/// A day `n` of a month counted as `mktime` normalises it: day 0 is the
/// last of the month before, day 32 runs into the next month.
fn normalised_day(year: i32, month: u32, n: i32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    first.checked_add_signed(chrono::Duration::days(i64::from(n) - 1))
}

impl DaySpec {
    /// The day Icinga 2.13 takes the spec to name, seen from `reference`
    /// (`LegacyTimePeriod::ParseTimeSpec`): a weekday is the next one on or
    /// after `reference`; a day of a month without a year is in
    /// `reference`'s year (and, for `day N`, month); the nth weekday counts
    /// from the first of the month, or backwards from the first of the next
    /// month when negative (2.13 counts that first day too).
    fn day_from(&self, reference: NaiveDate) -> Option<NaiveDate> {
        let year = reference.year();
        match *self {
            DaySpec::Date { year, month, day } => normalised_day(year, month, day as i32),
            DaySpec::MonthDay { month, day } => day_of_month(year, month, day),
            DaySpec::Day(n) => day_of_month(year, reference.month(), n),
            DaySpec::Weekday(w) => {
                let today = reference.weekday().num_days_from_sunday();
                reference.checked_add_days(chrono::Days::new(u64::from((7 - today + w) % 7)))
            }
            DaySpec::NthWeekday { weekday, n, month } => {
                let month = month.unwrap_or(reference.month());
                let (mut day, forward) = if n > 0 {
                    (NaiveDate::from_ymd_opt(year, month, 1)?, true)
                } else {
                    let (ny, nm) = add_months(year, month, 1);
                    (NaiveDate::from_ymd_opt(ny, nm, 1)?, false)
                };
                // Icinga loops forever on `monday 0`; here it names no day.
                let wanted = n.unsigned_abs();
                let mut seen = 0;
                for _ in 0..400 {
                    if day.weekday().num_days_from_sunday() == weekday {
                        seen += 1;
                        if seen == wanted {
                            return Some(day);
                        }
                    }
                    day = if forward {
                        day.succ_opt()?
                    } else {
                        day.pred_opt()?
                    };
                }
                None
            }
        }
    }
}

/// `day N` of a month as Icinga 2.13 reads it: from the end when
/// negative, normalised by `mktime` otherwise.
fn day_of_month(year: i32, month: u32, n: i32) -> Option<NaiveDate> {
    if n < 0 {
        month_day(year, month, -1)?.checked_sub_signed(chrono::Duration::days(i64::from(-n - 1)))
    } else {
        normalised_day(year, month, n)
    }
}

impl DayRange {
    /// Whether the day starting at `reference`'s midnight is one the key
    /// names, as Icinga 2.13 decides it for a TimePeriod
    /// (`LegacyTimePeriod::IsInDayDefinition`): both ends are worked out
    /// from `reference` itself, and the range's end, the midnight after its
    /// last day, still counts. So `day 24` holds on the 24th and on the
    /// 25th, and `monday - friday` only on Mondays — 2.13's behaviour,
    /// which the TimePeriods of an Icinga 2.13 configuration were written
    /// against.
    pub fn holds_on(&self, reference: NaiveDate) -> bool {
        let Some(begin) = self.begin.day_from(reference) else {
            return false;
        };
        let last = match &self.end {
            Some(end) => end.day_from(reference),
            None => Some(begin),
        };
        let Some(after) = last.and_then(|d| d.succ_opt()) else {
            return false;
        };
        if reference < begin || reference > after {
            return false;
        }
        let stride = self.stride.unwrap_or(1);
        stride <= 1 || (reference - begin).num_days() % i64::from(stride) == 0
    }
}

impl DayRange {
    /// Whether `date` is one of the days this key names.
    pub fn contains(&self, date: NaiveDate) -> bool {
        let stride = self.stride.filter(|s| *s > 1).map(i64::from);
        let on_stride = |offset: i64| stride.is_none_or(|s| offset % s == 0);
        let weekday = date.weekday().num_days_from_sunday();
        if let DaySpec::Weekday(begin) = self.begin {
            let end = match self.end {
                Some(DaySpec::Weekday(end)) => end,
                None => begin,
                Some(_) => return false,
            };
            let offset = (weekday + 7 - begin) % 7;
            return offset <= (end + 7 - begin) % 7 && on_stride(i64::from(offset));
        }
        let Some(end) = &self.end else {
            return self.begin.resolve(date.year(), date.month()) == Some(date);
        };
        // The period that may hold `date` began in this month (or year)
        // or in the one before, and may end in the one after its start.
        let step = if self.begin.monthly() { 1 } else { 12 };
        [-step, 0].into_iter().any(|offset| {
            let (y, m) = add_months(date.year(), date.month(), offset);
            let Some(b) = self.begin.resolve(y, m) else {
                return false;
            };
            let e = match end.resolve(y, m) {
                Some(e) if e >= b => Some(e),
                _ => {
                    let (ny, nm) = add_months(y, m, step);
                    end.resolve(ny, nm)
                }
            };
            e.is_some_and(|e| b <= date && date <= e && on_stride((date - b).num_days()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_icinga_accepts() {
        for key in [
            "monday",
            "monday 1",
            "monday -1 may",
            "january 1",
            "day -1",
            "2016-09-30",
            "2016-09-30 - 2016-10-30",
            "monday 1 - thursday 4",
            "day 1 - 15 / 2",
            "july 10 - 15",
            "december 31 - january 1",
        ] {
            assert!(parse_day_range(key).is_ok(), "{key}");
        }
    }

    #[test]
    fn keys_icinga_refuses_with_its_words() {
        assert_eq!(
            parse_day_range("funday").unwrap_err(),
            "Invalid time specification: funday"
        );
        assert_eq!(
            parse_day_range("mon").unwrap_err(),
            "Invalid time specification: mon"
        );
        assert_eq!(
            parse_day_range("monday 5 foo").unwrap_err(),
            "Invalid month in time specification: monday 5 foo"
        );
        assert_eq!(
            parse_day_range("2007-01-01 / 7").unwrap_err(),
            "Invalid time specification: 2007-01-01 "
        );
        assert_eq!(
            parse_day_range("monday -").unwrap_err(),
            "Can't convert '-' to an integer."
        );
    }

    #[test]
    fn values() {
        assert_eq!(
            parse_time_ranges("09:00-17:00,18:00-24:00").unwrap_or_default(),
            vec![(32400, 61200), (64800, 86400)]
        );
        assert_eq!(
            parse_time_ranges("12:15:30-12:23:43,22:00-06:00").unwrap_or_default(),
            vec![(44130, 44623), (79200, 108000)]
        );
        assert_eq!(
            parse_time_ranges("9-17").unwrap_err(),
            "Invalid time specification: 9"
        );
        assert_eq!(parse_time_ranges("").unwrap_err(), "Invalid timerange: ");
    }
}
