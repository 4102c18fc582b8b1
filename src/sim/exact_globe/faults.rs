//! Fault injection: `--faults latency=50ms,status503=0.1,restart=0.01,locked=0.05,drop=0.05,lost_post=0.1`
//! (and `mac=0.01`, the workstation licence error).
//! Every probability is drawn from one RNG seeded from the simulator's seed, so a run repeats.

use std::str::FromStr;
use std::time::Duration;

/// Which faults to inject, and how often (probabilities per request, 0..=1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added before every answer.
    pub latency: Duration,
    /// 503 Service Unavailable, nothing done.
    pub status503: f64,
    /// The service falls into the "needs a restart" state (the memory leak users report):
    /// every call fails with 500 until `POST /_sim/restart`.
    pub restart: f64,
    /// A write meets a record locked by another Globe user: 500, nothing changed.
    pub locked: f64,
    /// The connection is dropped before the request is handled: nothing done, no answer.
    pub drop: f64,
    /// A create is committed but its answer is lost (the connection drops after the commit).
    pub lost_post: f64,
    /// The workstation licence check fails ("MacAddress2"), as on an unregistered machine.
    pub mac: f64,
}

impl Faults {
    /// True when no fault is configured.
    pub fn is_none(&self) -> bool {
        *self == Faults::default()
    }

    /// The spec as `--faults` takes it (empty when none): what `GET /_sim/faults` answers.
    pub fn spec(&self) -> String {
        let mut parts = Vec::new();
        if !self.latency.is_zero() {
            parts.push(format!("latency={}ms", self.latency.as_millis()));
        }
        for (name, share) in [
            ("status503", self.status503),
            ("restart", self.restart),
            ("locked", self.locked),
            ("drop", self.drop),
            ("lost_post", self.lost_post),
            ("mac", self.mac),
        ] {
            if share > 0.0 {
                parts.push(format!("{name}={share}"));
            }
        }
        parts.join(",")
    }
}

/// Why a faults spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --faults spec: {0}")]
pub struct FaultsError(String);

fn duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    if let Some(ms) = t.strip_suffix("ms") {
        ms.trim().parse().ok().map(Duration::from_millis)
    } else if let Some(s) = t.strip_suffix('s') {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|s| *s >= 0.0 && s.is_finite())
            .map(Duration::from_secs_f64)
    } else {
        t.parse().ok().map(Duration::from_millis)
    }
}

impl FromStr for Faults {
    type Err = FaultsError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut f = Faults::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| FaultsError(format!("'{part}' is not name=value")))?;
            let (name, value) = (name.trim(), value.trim());
            if name == "latency" {
                f.latency = duration(value).ok_or_else(|| {
                    FaultsError(format!("latency '{value}' is not a duration like 50ms"))
                })?;
                continue;
            }
            let p: f64 = value
                .parse()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| {
                    FaultsError(format!(
                        "{name}: '{value}' is not a probability between 0 and 1"
                    ))
                })?;
            match name {
                "status503" | "503" => f.status503 = p,
                "restart" => f.restart = p,
                "locked" => f.locked = p,
                "drop" => f.drop = p,
                "lost_post" => f.lost_post = p,
                "mac" => f.mac = p,
                other => {
                    return Err(FaultsError(format!(
                        "unknown fault '{other}' (known: latency, status503, restart, locked, drop, lost_post, mac)"
                    )))
                }
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_spec() {
        let f: Faults =
            "latency=50ms,status503=0.1,restart=0.01,locked=0.05,drop=0.05,lost_post=0.1"
                .parse()
                .unwrap();
        assert_eq!(f.latency, Duration::from_millis(50));
        assert_eq!(
            (f.status503, f.restart, f.locked, f.drop, f.lost_post),
            (0.1, 0.01, 0.05, 0.05, 0.1)
        );
        assert!("".parse::<Faults>().unwrap().is_none());
        assert!("latency=fast".parse::<Faults>().is_err());
        assert!("drop=2".parse::<Faults>().is_err());
        assert!("explode=0.1".parse::<Faults>().is_err());
    }
}
