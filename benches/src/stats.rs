//! Small statistics and process measurements. The machine is shared and noisy, so every
//! comparison is made in *interleaved pairs*: round after round, A then B (then B then A in
//! the next round), and the ratio is the median of the per-round ratios; a slow patch hits
//! both sides of the round it falls in.

use std::time::{Duration, Instant};

/// The median (sorts `v`). `NaN` for an empty slice.
pub fn median(v: &mut [f64]) -> f64 {
    quantile(v, 0.5)
}

/// The `q` quantile (0..=1), nearest-rank with linear interpolation (sorts `v`).
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// The median of `v` and a distribution-free 95 % confidence interval for it, `(lo, median,
/// hi)`: the order statistics whose ranks are 1.96 standard deviations of a Binomial(n, ½)
/// either side of the middle (no assumption on the shape of the samples, only that they are
/// independent). For per-round differences of two interleaved sides, an interval that lies
/// below a bound shows the difference is below it on this machine. `NaN`s when `v` has fewer
/// than 6 samples (too few for a 95 % interval).
pub fn median_ci95(v: &[f64]) -> (f64, f64, f64) {
    let n = v.len();
    if n < 6 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let half = 1.96 * (n as f64).sqrt() / 2.0;
    let lo = ((n as f64 / 2.0 - half).floor() as usize).min(n - 1);
    let hi = ((n as f64 / 2.0 + half).ceil() as usize).min(n - 1);
    (v[lo], median(&mut v), v[hi])
}

/// Samples of A and B taken in interleaved rounds.
#[derive(Debug, Default, Clone)]
pub struct Pairs {
    /// Every sample of A (e.g. per-call latency in µs).
    pub a: Vec<f64>,
    /// Every sample of B.
    pub b: Vec<f64>,
    /// One A/B ratio per round (of the round's medians, or of the round's totals).
    pub ratios: Vec<f64>,
}

impl Pairs {
    /// Median of A's samples.
    pub fn median_a(&self) -> f64 {
        median(&mut self.a.clone())
    }

    /// Median of B's samples.
    pub fn median_b(&self) -> f64 {
        median(&mut self.b.clone())
    }

    /// Median of the per-round ratios.
    pub fn ratio(&self) -> f64 {
        median(&mut self.ratios.clone())
    }

    /// The 25th and 75th percentile of the per-round ratios.
    pub fn ratio_iqr(&self) -> (f64, f64) {
        let mut r = self.ratios.clone();
        (quantile(&mut r, 0.25), quantile(&mut r, 0.75))
    }
}

/// Run `rounds` interleaved rounds of `iters` calls of `a` and `b` (synchronous closures), or
/// until `budget` has passed; each call is timed. Returns per-call nanoseconds, and per round
/// the ratio of medians A/B.
pub fn paired_sync(
    rounds: usize,
    iters: usize,
    budget: Duration,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> Pairs {
    let start = Instant::now();
    let mut out = Pairs::default();
    let mut ra = Vec::with_capacity(iters);
    let mut rb = Vec::with_capacity(iters);
    for round in 0..rounds {
        if round > 0 && start.elapsed() > budget {
            break;
        }
        ra.clear();
        rb.clear();
        let run = |f: &mut dyn FnMut(), into: &mut Vec<f64>| {
            for _ in 0..iters {
                let t = Instant::now();
                f();
                into.push(t.elapsed().as_nanos() as f64);
            }
        };
        if round % 2 == 0 {
            run(&mut a, &mut ra);
            run(&mut b, &mut rb);
        } else {
            run(&mut b, &mut rb);
            run(&mut a, &mut ra);
        }
        out.ratios
            .push(median(&mut ra.clone()) / median(&mut rb.clone()));
        out.a.extend_from_slice(&ra);
        out.b.extend_from_slice(&rb);
    }
    out
}

/// CPU time (user + system) of every live thread of process `pid`, from
/// `/proc/<pid>/task/*/schedstat` (nanosecond resolution). `None` off Linux.
pub fn cpu_time(pid: &str) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        total += text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(Duration::from_nanos(total))
}

/// CPU time of this process.
pub fn self_cpu_time() -> Duration {
    cpu_time("self").unwrap_or_default()
}

/// `VmRSS` and `VmHWM` (peak RSS) of this process in KiB, from `/proc/self/status`.
pub fn rss_kib() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The 1-minute load average (to print next to every result).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(quantile(&mut [1.0, 2.0, 3.0, 4.0, 5.0], 0.25), 2.0);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn median_interval() {
        let v: Vec<f64> = (0..100).map(f64::from).collect();
        let (lo, m, hi) = median_ci95(&v);
        assert_eq!(m, 49.5);
        // n = 100: ranks 50 ± 9.8 → the 41st and 60th smallest (0-based 40 and 60).
        assert_eq!((lo, hi), (40.0, 60.0));
        assert!(median_ci95(&[1.0, 2.0]).0.is_nan());
        // Order does not matter.
        let rev: Vec<f64> = v.iter().rev().copied().collect();
        assert_eq!(median_ci95(&rev), (lo, m, hi));
    }

    #[test]
    fn pairs_interleave_and_bound() {
        let (mut na, mut nb) = (0, 0);
        let p = paired_sync(4, 10, Duration::from_secs(10), || na += 1, || nb += 1);
        assert_eq!((na, nb), (40, 40));
        assert_eq!(p.ratios.len(), 4);
        assert_eq!(p.a.len(), 40);
        assert!(cpu_time("self").is_some());
        let (rss, hwm) = rss_kib();
        assert!(rss > 0 && hwm >= rss);
    }
}
