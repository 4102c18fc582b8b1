//! What the activity log keeps of one payload: the whole JSON up to
//! [`ACTIVITY_PAYLOAD_CAP`] bytes, a marker beyond. A record that fails again and again is
//! logged on every run; kept whole, one 10 MB record grew the state file by tens of MB a
//! run. The full source record is kept once, in the retry list, for as long as it waits.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The most bytes of JSON the activity log keeps of one payload.
pub const ACTIVITY_PAYLOAD_CAP: usize = 64 * 1024;

/// The key of the object that stands in for a payload too large to keep.
pub const TRUNCATED_MARKER: &str = "$exflow_truncated";

/// How much of a capped payload's text is kept, to recognise it by.
const PREVIEW: usize = 1024;

/// `text` (one payload as JSON) as the activity log keeps it: unchanged up to `cap` bytes;
/// beyond, `{"$exflow_truncated": {"bytes": N, "sha256": "...", "preview": "..."}}` with the
/// size and hash of the whole (the same record logged twice shows the same hash) and its
/// first kilobyte.
pub fn cap_payload(text: String, cap: usize) -> String {
    if text.len() <= cap {
        return text;
    }
    let mut end = PREVIEW.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let hash = Sha256::digest(text.as_bytes());
    json!({
        TRUNCATED_MARKER: {
            "bytes": text.len(),
            "sha256": hex(&hash),
            "preview": &text[..end],
        }
    })
    .to_string()
}

/// Whether a stored payload is the marker of a capped one.
pub fn is_capped(value: &Value) -> bool {
    value.get(TRUNCATED_MARKER).is_some()
}

/// Lower-case hexadecimal of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_payloads_are_kept_whole_and_large_ones_become_a_marker() {
        let small = json!({"ItemCode": "A1"}).to_string();
        assert_eq!(cap_payload(small.clone(), 100), small);
        let big = json!({"Notes": "é".repeat(600)}).to_string();
        let capped: Value = serde_json::from_str(&cap_payload(big.clone(), 100)).unwrap();
        assert!(is_capped(&capped));
        let m = &capped[TRUNCATED_MARKER];
        assert_eq!(m["bytes"], big.len());
        assert_eq!(m["sha256"].as_str().unwrap().len(), 64);
        // Cut on a character boundary, never inside the two bytes of `é`.
        let preview = m["preview"].as_str().unwrap();
        assert!(big.starts_with(preview) && preview.len() <= PREVIEW);
        assert_eq!(
            cap_payload(big.clone(), 100),
            cap_payload(big, 100),
            "the same payload gives the same marker"
        );
    }
}
