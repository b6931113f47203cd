//! The segments of TimePeriods: the stretches of time each one covers,
//! worked out ahead for a sliding window, as Icinga keeps them.
//!
//! Icinga does not ask a period's `ranges` whether a moment is inside it.
//! When a period starts, it works out the segments of the next 24 hours
//! (its own ranges, then the segments of the periods it excludes and
//! includes taken out or added, the preferred ones last); every five
//! minutes it forgets segments that ended over an hour ago and extends the
//! window to 24 hours ahead. A moment is inside when a segment holds it;
//! a moment outside the window counts as inside. The API shows the window
//! (`valid_begin`, `valid_end`), the `segments` and `is_inside`, and check
//! periods, notification periods and dependency periods read
//! `is_inside`. This module keeps those windows so that all of them agree
//! with Icinga's, merging quirks included.

use std::sync::Arc;

use picket_lang::Value;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::object::ConfigObject;
use crate::timeperiod::Ranges;

/// How far ahead a period's segments are worked out.
const LOOKAHEAD: f64 = 24.0 * 3600.0;
/// How long a segment is kept after it ended.
const KEEP: f64 = 3600.0;
/// How often the windows move on (Icinga's update timer).
pub const UPDATE_INTERVAL: f64 = 300.0;

/// A stretch of time a period covers, in seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub begin: f64,
    pub end: f64,
}

/// The segments of one period and the window they were worked out for.
/// Kept across restarts (retention), as Icinga keeps them in its state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub valid_begin: Option<f64>,
    pub valid_end: Option<f64>,
    pub segments: Vec<Segment>,
}

impl Window {
    fn widen(&mut self, begin: f64, end: f64) {
        if self.valid_begin.is_none_or(|b| begin < b) {
            self.valid_begin = Some(begin);
        }
        if self.valid_end.is_none_or(|e| end > e) {
            self.valid_end = Some(end);
        }
    }

    /// Adds a segment, merged into the first existing one it touches
    /// (only that one, as Icinga merges).
    pub fn add(&mut self, begin: f64, end: f64) {
        self.widen(begin, end);
        for s in &mut self.segments {
            if s.begin <= begin && s.end >= end {
                return;
            }
            if s.begin >= begin && s.end <= end {
                *s = Segment { begin, end };
                return;
            }
            if s.end >= begin && s.end <= end {
                s.end = end;
                return;
            }
            if s.begin >= begin && s.begin <= end {
                s.begin = begin;
                return;
            }
        }
        self.segments.push(Segment { begin, end });
    }

    /// Takes the time from `begin` to `end` out of the segments, cutting
    /// one in two when the time lies inside it.
    pub fn remove(&mut self, begin: f64, end: f64) {
        self.widen(begin, end);
        let mut kept = Vec::with_capacity(self.segments.len());
        for mut s in std::mem::take(&mut self.segments) {
            if s.begin >= begin && s.end <= end {
                continue;
            }
            if s.end < begin || s.begin > end {
                kept.push(s);
                continue;
            }
            if s.begin < begin && s.end > end {
                kept.push(Segment {
                    begin: s.begin,
                    end: begin,
                });
                kept.push(Segment {
                    begin: end,
                    end: s.end,
                });
                continue;
            }
            if s.begin > begin && s.begin < end {
                s.begin = end;
            }
            if s.end > begin && s.end < end {
                s.end = begin;
            }
            kept.push(s);
        }
        self.segments = kept;
    }

    /// Forgets the segments that ended before `before`; the window then
    /// begins there.
    fn purge(&mut self, before: f64) {
        match self.valid_begin {
            Some(b) if before >= b => self.valid_begin = Some(before),
            _ => return,
        }
        self.segments.retain(|s| s.end >= before);
    }

    /// Whether the window was worked out for `ts`.
    pub fn covers(&self, ts: f64) -> bool {
        matches!((self.valid_begin, self.valid_end), (Some(b), Some(e)) if ts >= b && ts <= e)
    }

    /// Icinga 2.13's `IsInside`: inside a segment (both ends excluded), or
    /// anywhere outside the window.
    pub fn is_inside(&self, ts: f64) -> bool {
        !self.covers(ts) || self.segments.iter().any(|s| ts > s.begin && ts < s.end)
    }
}

/// What makes a period's own segments: its `update` function.
#[derive(Debug, Clone)]
enum Update {
    /// `LegacyTimePeriod`, the default: the `ranges`.
    Ranges(Ranges),
    /// `EmptyTimePeriod`: none.
    Empty,
    /// `EvenMinutesTimePeriod`: every even minute.
    EvenMinutes,
}

impl Update {
    fn of(object: &ConfigObject) -> Update {
        let name = match object.get("update") {
            Some(Value::Function(f)) => f.name.to_string(),
            _ => String::new(),
        };
        if name.ends_with("EmptyTimePeriod") {
            Update::Empty
        } else if name.ends_with("EvenMinutesTimePeriod") {
            Update::EvenMinutes
        } else {
            Update::Ranges(match object.get("ranges") {
                Some(Value::Dict(d)) => Ranges::parse(&d),
                _ => Ranges::default(),
            })
        }
    }

    fn segments(&self, begin: f64, end: f64) -> Vec<(f64, f64)> {
        match self {
            Update::Ranges(r) => r.segments(begin, end),
            Update::Empty => Vec::new(),
            Update::EvenMinutes => {
                let mut out = Vec::new();
                let mut minute = (begin / 60.0) as i64 - 1;
                while ((minute * 60) as f64) < end {
                    if minute % 2 == 0 {
                        out.push(((minute * 60) as f64, ((minute + 1) * 60) as f64));
                    }
                    minute += 1;
                }
                out
            }
        }
    }
}

/// A TimePeriod, its includes and excludes resolved to indexes.
#[derive(Debug, Clone)]
struct Period {
    object: Arc<ConfigObject>,
    update: Update,
    includes: Vec<usize>,
    excludes: Vec<usize>,
    prefer_includes: bool,
    window: Window,
}

impl Period {
    /// Whether `other` would work out the same segments.
    fn same_rules(&self, other: &Period) -> bool {
        let attr =
            |p: &Period, name: &str| p.object.get(name).map(|v| picket_lang::json::encode(&v));
        [
            "ranges",
            "includes",
            "excludes",
            "prefer_includes",
            "update",
        ]
        .iter()
        .all(|n| attr(self, n) == attr(other, n))
    }
}

/// The TimePeriods of a configuration and their windows.
#[derive(Debug, Clone, Default)]
pub struct Periods {
    list: Vec<Period>,
    by_name: FxHashMap<String, usize>,
    /// The order windows are worked out in: a period after those it
    /// includes and excludes, so that their segments are there to merge.
    order: Vec<usize>,
}

impl Periods {
    /// The periods of `objects`, their windows worked out at `now`.
    pub fn build(objects: Vec<Arc<ConfigObject>>, now: f64) -> Periods {
        let by_name: FxHashMap<String, usize> = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.full_name(), i))
            .collect();
        let resolve = |o: &ConfigObject, field: &str| -> Vec<usize> {
            match o.get(field) {
                Some(Value::Array(a)) => a
                    .to_vec()
                    .iter()
                    .filter_map(|v| by_name.get(&v.to_display()).copied())
                    .collect(),
                _ => Vec::new(),
            }
        };
        let list: Vec<Period> = objects
            .iter()
            .map(|o| Period {
                update: Update::of(o),
                includes: resolve(o, "includes"),
                excludes: resolve(o, "excludes"),
                prefer_includes: !matches!(o.get("prefer_includes"), Some(Value::Bool(false))),
                window: Window::default(),
                object: o.clone(),
            })
            .collect();
        let mut periods = Periods {
            order: dependency_order(&list),
            list,
            by_name,
        };
        for i in periods.order.clone() {
            periods.list[i].window = periods.start(i, now);
        }
        periods
    }

    /// Takes over the windows of `old`'s periods that are unchanged, as
    /// a running Icinga keeps them when other objects come and go.
    pub fn adopt(&mut self, old: &Periods) {
        for p in &mut self.list {
            if let Some(o) = old
                .by_name
                .get(&p.object.full_name())
                .map(|i| &old.list[*i])
            {
                if o.same_rules(p) {
                    p.window = o.window.clone();
                }
            }
        }
    }

    /// Starts again from the windows a previous run left (by full name):
    /// each keeps the bounds it had and gets its segments worked out anew
    /// from `now` (Icinga's `Start` after its state was loaded clears the
    /// segments but not `valid_begin`/`valid_end`), so a window may begin
    /// before the restart.
    pub fn resume(&mut self, retained: &FxHashMap<String, Window>, now: f64) {
        for i in self.order.clone() {
            let Some(old) = retained.get(&self.list[i].object.full_name()) else {
                continue;
            };
            let mut window = Window {
                segments: Vec::new(),
                ..old.clone()
            };
            self.update_region(i, &mut window, now, now + LOOKAHEAD, |j| {
                Some(&self.list[j].window)
            });
            self.list[i].window = window;
        }
    }

    /// Every period's window, by full name (for retention).
    pub fn windows(&self) -> Vec<(String, Window)> {
        self.list
            .iter()
            .map(|p| (p.object.full_name(), p.window.clone()))
            .collect()
    }

    pub fn index(&self, full_name: &str) -> Option<usize> {
        self.by_name.get(full_name).copied()
    }

    pub fn window(&self, full_name: &str) -> Option<&Window> {
        self.index(full_name).map(|i| &self.list[i].window)
    }

    /// A new window for period `i` from `now` on (`TimePeriod::Start`).
    fn start(&self, i: usize, now: f64) -> Window {
        let mut window = Window::default();
        self.update_region(i, &mut window, now, now + LOOKAHEAD, |j| {
            Some(&self.list[j].window)
        });
        window
    }

    /// Icinga's `UpdateRegion`: the period's own segments from `begin` to
    /// `end` replace what the window held there, then the segments of the
    /// periods it excludes and includes are taken out and added, the
    /// preferred kind last. `merged` gives those periods' windows.
    fn update_region<'w>(
        &self,
        i: usize,
        window: &mut Window,
        begin: f64,
        end: f64,
        merged: impl Fn(usize) -> Option<&'w Window>,
    ) {
        let p = &self.list[i];
        let segments = p.update.segments(begin, end);
        window.remove(begin, end);
        for (b, e) in segments {
            window.add(b, e);
        }
        let (first, last) = if p.prefer_includes {
            (&p.excludes, &p.includes)
        } else {
            (&p.includes, &p.excludes)
        };
        for (list, include) in [(first, !p.prefer_includes), (last, p.prefer_includes)] {
            for j in list {
                for s in merged(*j).iter().flat_map(|w| &w.segments) {
                    if include {
                        window.add(s.begin, s.end);
                    } else {
                        window.remove(s.begin, s.end);
                    }
                }
            }
        }
    }

    /// Icinga's update timer: every window forgets what ended over an hour
    /// ago and reaches 24 hours ahead again.
    pub fn update(&mut self, now: f64) {
        for i in self.order.clone() {
            let mut window = std::mem::take(&mut self.list[i].window);
            window.purge(now - KEEP);
            let valid_end = window.valid_end.unwrap_or(now);
            let end = now + LOOKAHEAD;
            if end >= valid_end {
                self.update_region(i, &mut window, valid_end, end, |j| {
                    Some(&self.list[j].window)
                });
            }
            self.list[i].window = window;
        }
    }

    /// Whether period `i` holds `ts`. Within its window the window
    /// answers; a moment outside it (long past, or further ahead than the
    /// window reaches) is answered by a window worked out for it, where
    /// Icinga would answer yes without looking.
    pub fn is_inside(&self, i: usize, ts: f64) -> bool {
        let Some(p) = self.list.get(i) else {
            return true;
        };
        if p.window.covers(ts) {
            return p.window.is_inside(ts);
        }
        self.window_at(i, ts).is_inside(ts)
    }

    /// A window for period `i` worked out at `ts`, after those of the
    /// periods it merges (directly or through others), each once.
    fn window_at(&self, i: usize, ts: f64) -> Window {
        let mut needed = vec![false; self.list.len()];
        let mut stack = vec![i];
        while let Some(j) = stack.pop() {
            if !std::mem::replace(&mut needed[j], true) {
                stack.extend(self.list[j].includes.iter().chain(&self.list[j].excludes));
            }
        }
        let mut windows: FxHashMap<usize, Window> = FxHashMap::default();
        for &j in self.order.iter().filter(|j| needed[**j]) {
            let mut window = Window::default();
            self.update_region(j, &mut window, ts, ts + LOOKAHEAD, |k| windows.get(&k));
            windows.insert(j, window);
        }
        windows.remove(&i).unwrap_or_default()
    }
}

/// The periods in an order where each comes after those it includes and
/// excludes; periods in a cycle come in the order they were found.
fn dependency_order(list: &[Period]) -> Vec<usize> {
    fn visit(i: usize, list: &[Period], state: &mut [u8], out: &mut Vec<usize>) {
        if state[i] != 0 {
            return;
        }
        state[i] = 1;
        for j in list[i].includes.iter().chain(&list[i].excludes) {
            visit(*j, list, state, out);
        }
        state[i] = 2;
        out.push(i);
    }
    let mut state = vec![0u8; list.len()];
    let mut out = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        visit(i, list, &mut state, &mut out);
    }
    out
}
