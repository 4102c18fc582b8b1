//! Fault injection (`--faults`): latency, 500/503 answers, dropped connections, 429 bursts and
//! POSTs that are committed but whose response is lost, drawn from a seeded generator.

use std::str::FromStr;
use std::time::Duration;

/// The fault spec, e.g. `latency=50ms,status503=0.1,drop=0.05,lost_post=0.1,burst429=5`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added to every answer.
    pub latency: Option<Duration>,
    /// Share of API calls answered 500.
    pub status500: f64,
    /// Share of API calls answered 503.
    pub status503: f64,
    /// Share of API calls whose connection is dropped before any answer (nothing done).
    pub drop: f64,
    /// Share of POSTs that are committed but whose answer is lost.
    pub lost_post: f64,
    /// The first N API calls (and N after each `/_sim/reset`) answer 429.
    pub burst429: u32,
}

/// A `--faults` spec that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid --faults spec `{0}`: expected e.g. latency=50ms,status500=0.1,status503=0.1,drop=0.05,lost_post=0.1,burst429=5")]
pub struct FaultsError(String);

fn share(v: &str, part: &str) -> Result<f64, FaultsError> {
    match v.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(FaultsError(part.to_string())),
    }
}

impl Faults {
    /// The spec as `--faults` takes it (empty when none): what `GET /_sim/faults` answers.
    pub fn spec(&self) -> String {
        let mut parts = Vec::new();
        if let Some(l) = self.latency {
            parts.push(format!("latency={}ms", l.as_millis()));
        }
        for (name, share) in [
            ("status500", self.status500),
            ("status503", self.status503),
            ("drop", self.drop),
            ("lost_post", self.lost_post),
        ] {
            if share > 0.0 {
                parts.push(format!("{name}={share}"));
            }
        }
        if self.burst429 > 0 {
            parts.push(format!("burst429={}", self.burst429));
        }
        parts.join(",")
    }
}

impl FromStr for Faults {
    type Err = FaultsError;
    fn from_str(s: &str) -> Result<Faults, FaultsError> {
        let mut f = Faults::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| FaultsError(part.to_string()))?;
            match k.trim() {
                "latency" => {
                    let v = v.trim();
                    let ms = if let Some(x) = v.strip_suffix("ms") {
                        x.parse::<u64>().ok()
                    } else if let Some(x) = v.strip_suffix('s') {
                        x.parse::<u64>().ok().map(|s| s * 1000)
                    } else {
                        v.parse::<u64>().ok()
                    };
                    f.latency = Some(Duration::from_millis(
                        ms.ok_or_else(|| FaultsError(part.to_string()))?,
                    ));
                }
                "status500" => f.status500 = share(v, part)?,
                "status503" => f.status503 = share(v, part)?,
                "drop" => f.drop = share(v, part)?,
                "lost_post" => f.lost_post = share(v, part)?,
                "burst429" => f.burst429 = v.parse().map_err(|_| FaultsError(part.to_string()))?,
                _ => return Err(FaultsError(part.to_string())),
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spec() {
        let f: Faults = "latency=50ms,status503=0.1,drop=0.05,lost_post=0.1,burst429=5"
            .parse()
            .expect("valid");
        assert_eq!(f.latency, Some(Duration::from_millis(50)));
        assert_eq!(f.status503, 0.1);
        assert_eq!(f.burst429, 5);
        assert!("drop=2".parse::<Faults>().is_err());
        assert!("nonsense".parse::<Faults>().is_err());
        assert_eq!("".parse::<Faults>().ok(), Some(Faults::default()));
    }
}
