//! Check statistics of the node, as Icinga 2's `icinga` check and
//! `/v1/status` report them: results per minute, 5 and 15 minutes, split
//! into active and passive, host and service checks.

use std::time::Instant;

use picket_model::state::Kind;

/// Seconds of history kept: the longest window reported.
const WINDOW: usize = 900;

/// Per-second counts over the last 15 minutes, in a ring.
#[derive(Clone)]
struct Ring {
    counts: Vec<u32>,
    /// The second (since start) the newest slot counts.
    second: u64,
}

impl Ring {
    fn new() -> Ring {
        Ring {
            counts: vec![0; WINDOW],
            second: 0,
        }
    }

    fn advance(&mut self, second: u64) {
        if second <= self.second {
            return;
        }
        let gap = (second - self.second).min(WINDOW as u64);
        for i in 1..=gap {
            let slot = ((self.second + i) % WINDOW as u64) as usize;
            self.counts[slot] = 0;
        }
        self.second = second;
    }

    fn add(&mut self, second: u64) {
        self.advance(second);
        self.counts[(second % WINDOW as u64) as usize] += 1;
    }

    /// Results in the last `span` seconds (including the current one).
    fn sum(&self, second: u64, span: usize) -> u64 {
        let mut ring = self.clone();
        ring.advance(second);
        let span = (span.min(WINDOW) as u64).min(ring.second + 1);
        (0..span)
            .map(|back| u64::from(ring.counts[((ring.second - back) % WINDOW as u64) as usize]))
            .sum()
    }
}

/// The node's check counters.
#[derive(Clone)]
pub struct Stats {
    started: Instant,
    /// Indexed by `[active, passive] × [host, service]`.
    rings: [Ring; 4],
    /// Checks running now, as the checker last counted them.
    pub running: usize,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: Instant::now(),
            rings: std::array::from_fn(|_| Ring::new()),
            running: 0,
        }
    }
}

fn slot(kind: Kind, active: bool) -> usize {
    usize::from(!active) * 2 + usize::from(kind == Kind::Service)
}

impl Stats {
    fn second(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Counts one processed result.
    pub fn record(&mut self, kind: Kind, active: bool) {
        let second = self.second();
        self.rings[slot(kind, active)].add(second);
    }

    /// Results of the kind in the last `span` seconds.
    pub fn count(&self, kind: Kind, active: bool, span: usize) -> u64 {
        self.rings[slot(kind, active)].sum(self.second(), span)
    }

    /// Seconds since the checker started.
    pub fn uptime(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_forget_old_seconds() {
        let mut ring = Ring::new();
        ring.add(0);
        ring.add(0);
        ring.add(30);
        assert_eq!(ring.sum(30, 60), 3);
        assert_eq!(ring.sum(70, 60), 1);
        assert_eq!(ring.sum(70, 300), 3);
        assert_eq!(ring.sum(2000, 900), 0);
        ring.add(2000);
        assert_eq!(ring.sum(2000, 900), 1);
    }
}
