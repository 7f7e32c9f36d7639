//! The arrival schedule of the open model: when the k-th request is *intended*
//! to be sent, for a constant rate (`--rate`) or a ramp of stages (`--stages`,
//! linear within a stage like k6's ramping-arrival-rate executor).
//!
//! Pure arithmetic over the cumulative arrival count N(t); no clocks, no I/O.

use crate::error::LoadError;
use crate::units::parse_duration;
use std::time::Duration;

/// One stage of a ramp: over `duration` the rate moves linearly to `target_rps`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// Length of the stage.
    pub duration: Duration,
    /// Arrival rate (requests per second) reached at the end of the stage.
    pub target_rps: f64,
}

/// A stage with its precomputed start: time, rate and cumulative arrivals.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start_s: f64,
    duration_s: f64,
    start_rps: f64,
    end_rps: f64,
    arrivals_before: f64,
}

impl Segment {
    fn arrivals(&self) -> f64 {
        (self.start_rps + self.end_rps) / 2.0 * self.duration_s
    }

    /// Seconds into the segment at which `m` arrivals of it have happened.
    fn time_of(&self, m: f64) -> f64 {
        if m <= 0.0 {
            return 0.0;
        }
        let slope = (self.end_rps - self.start_rps) / self.duration_s;
        if slope.abs() < 1e-12 {
            return m / self.start_rps;
        }
        // Solve start_rps·τ + slope·τ²/2 = m for the smallest τ ≥ 0, in the form
        // that stays exact when start_rps is 0 or the slope is negative.
        let discriminant = (self.start_rps * self.start_rps + 2.0 * slope * m).max(0.0);
        let denominator = self.start_rps + discriminant.sqrt();
        if denominator <= 0.0 {
            return self.duration_s;
        }
        (2.0 * m / denominator).min(self.duration_s)
    }
}

/// When each request of an open-model run should be sent.
#[derive(Debug, Clone)]
pub struct ArrivalSchedule {
    segments: Vec<Segment>,
    total_arrivals: u64,
}

impl ArrivalSchedule {
    /// `rate_rps` requests per second for `duration`.
    pub fn constant(rate_rps: f64, duration: Duration) -> Result<Self, LoadError> {
        if !rate_rps.is_finite() || rate_rps <= 0.0 {
            return Err(LoadError::Config(format!(
                "--rate must be a positive number of requests per second, got {rate_rps}"
            )));
        }
        Self::from_stages(
            rate_rps,
            &[Stage {
                duration,
                target_rps: rate_rps,
            }],
        )
    }

    /// A ramp starting at `start_rps` through `stages`.
    pub fn from_stages(start_rps: f64, stages: &[Stage]) -> Result<Self, LoadError> {
        if stages.is_empty() {
            return Err(LoadError::Config(
                "--stages needs at least one stage".into(),
            ));
        }
        let mut segments = Vec::with_capacity(stages.len());
        let (mut start_s, mut rps, mut arrivals) = (0.0, start_rps, 0.0);
        for stage in stages {
            if stage.duration.is_zero() {
                return Err(LoadError::Config("a stage must last longer than 0s".into()));
            }
            if !stage.target_rps.is_finite() || stage.target_rps < 0.0 {
                return Err(LoadError::Config(format!(
                    "stage rate must be zero or positive, got {}",
                    stage.target_rps
                )));
            }
            let segment = Segment {
                start_s,
                duration_s: stage.duration.as_secs_f64(),
                start_rps: rps,
                end_rps: stage.target_rps,
                arrivals_before: arrivals,
            };
            arrivals += segment.arrivals();
            start_s += segment.duration_s;
            rps = stage.target_rps;
            segments.push(segment);
        }
        Ok(Self {
            segments,
            // Arrival k happens when N(t) reaches k, so k = 0 is at t = 0.
            total_arrivals: arrivals.ceil().max(0.0) as u64,
        })
    }

    /// Number of arrivals in the whole schedule.
    pub fn total_arrivals(&self) -> u64 {
        self.total_arrivals
    }

    /// Length of the whole schedule.
    pub fn duration(&self) -> Duration {
        let end = self
            .segments
            .last()
            .map_or(0.0, |s| s.start_s + s.duration_s);
        Duration::from_secs_f64(end)
    }

    /// Rate the schedule asks for at `elapsed` (requests per second).
    pub fn rate_at(&self, elapsed: Duration) -> f64 {
        let t = elapsed.as_secs_f64();
        for segment in &self.segments {
            if t < segment.start_s + segment.duration_s {
                let f = ((t - segment.start_s) / segment.duration_s).clamp(0.0, 1.0);
                return segment.start_rps + (segment.end_rps - segment.start_rps) * f;
            }
        }
        0.0
    }

    /// Intended send time of arrival `k` (0-based) after the start, or `None`
    /// when the schedule has fewer arrivals.
    pub fn intended_send_time(&self, k: u64) -> Option<Duration> {
        if k >= self.total_arrivals {
            return None;
        }
        let target = k as f64;
        let index = self
            .segments
            .partition_point(|s| s.arrivals_before + s.arrivals() <= target)
            .min(self.segments.len().saturating_sub(1));
        let segment = self.segments.get(index)?;
        let t = segment.start_s + segment.time_of(target - segment.arrivals_before);
        Some(Duration::from_secs_f64(t.max(0.0)))
    }
}

/// Parses `30s:100,1m:1000,30s:0` (duration:target rate per stage).
pub fn parse_stages(text: &str) -> Result<Vec<Stage>, LoadError> {
    let bad = |part: &str, why: &str| {
        LoadError::Config(format!(
            "bad stage '{part}' in --stages '{text}': {why} (expected DURATION:RATE, e.g. 30s:100,1m:1000,30s:0)"
        ))
    };
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (duration, rate) = part.split_once(':').ok_or_else(|| bad(part, "no ':'"))?;
            let duration = parse_duration(duration).map_err(|e| bad(part, &e))?;
            if duration.is_zero() {
                return Err(bad(part, "a stage must last longer than 0s"));
            }
            let target_rps: f64 = rate
                .trim()
                .parse()
                .map_err(|_| bad(part, "the rate is not a number"))?;
            if !target_rps.is_finite() || target_rps < 0.0 {
                return Err(bad(part, "the rate must be zero or positive"));
            }
            Ok(Stage {
                duration,
                target_rps,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(k: u64, schedule: &ArrivalSchedule) -> f64 {
        schedule
            .intended_send_time(k)
            .map(|d| d.as_secs_f64())
            .unwrap_or(f64::NAN)
    }

    #[test]
    fn constant_rate_spaces_arrivals_evenly() {
        let schedule = ArrivalSchedule::constant(1000.0, Duration::from_secs(2)).expect("valid");
        assert_eq!(schedule.total_arrivals(), 2000);
        assert!((secs(0, &schedule) - 0.0).abs() < 1e-9);
        assert!((secs(1, &schedule) - 0.001).abs() < 1e-9);
        assert!((secs(1999, &schedule) - 1.999).abs() < 1e-9);
        assert_eq!(schedule.intended_send_time(2000), None);
    }

    #[test]
    fn ramp_from_zero_follows_the_integral() {
        // 0 → 100 rps over 10 s: N(t) = 5 t², 500 arrivals in all.
        let stages = [Stage {
            duration: Duration::from_secs(10),
            target_rps: 100.0,
        }];
        let schedule = ArrivalSchedule::from_stages(0.0, &stages).expect("valid");
        assert_eq!(schedule.total_arrivals(), 500);
        assert!((secs(5, &schedule) - 1.0).abs() < 1e-9);
        assert!((secs(125, &schedule) - 5.0).abs() < 1e-9);
        assert!((schedule.rate_at(Duration::from_secs(5)) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn stages_chain_ramp_up_hold_and_ramp_down() {
        let stages = parse_stages("2s:100,2s:100,2s:0").expect("valid");
        let schedule = ArrivalSchedule::from_stages(0.0, &stages).expect("valid");
        // 100 (ramp up) + 200 (hold) + 100 (ramp down).
        assert_eq!(schedule.total_arrivals(), 400);
        assert_eq!(schedule.duration(), Duration::from_secs(6));
        assert!((secs(100, &schedule) - 2.0).abs() < 1e-9);
        assert!((secs(200, &schedule) - 3.0).abs() < 1e-9);
        // Ramp down: 50 arrivals into the last stage at t where 100τ − 25τ² = 50.
        let tau = (100.0 - (100.0f64 * 100.0 - 4.0 * 25.0 * 50.0).sqrt()) / 50.0;
        assert!((secs(350, &schedule) - (4.0 + tau)).abs() < 1e-9);
        let mut last = 0.0;
        for k in 0..schedule.total_arrivals() {
            let t = secs(k, &schedule);
            assert!(t >= last && t <= 6.0, "arrival {k} at {t} after {last}");
            last = t;
        }
    }

    #[test]
    fn bad_stages_are_explained() {
        for bad in ["30s", "30s:abc", "xx:10", "10s:-5", "0s:100"] {
            let error = parse_stages(bad).expect_err(bad).to_string();
            assert!(error.contains("expected DURATION:RATE"), "{error}");
        }
        assert!(ArrivalSchedule::constant(0.0, Duration::from_secs(1)).is_err());
    }
}
