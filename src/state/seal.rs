//! Secrets at rest: OAuth tokens are sealed (ChaCha20-Poly1305, from `ring`) under a key
//! taken from `EXFLOW_STATE_KEY` when it is set, so a copied state file gives nothing away.
//! The variable holds a passphrase, stretched with PBKDF2-HMAC-SHA256. A sealed value is
//! text: `exflow-sealed:v1:` and the base64 of nonce, ciphertext and tag; the row it belongs
//! to is bound in as associated data, so a value moved to another row does not open.

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::num::NonZeroU32;

/// The environment variable holding the passphrase.
pub const KEY_VAR: &str = "EXFLOW_STATE_KEY";
const PREFIX: &str = "exflow-sealed:v1:";
/// The key is per passphrase, not per file: any copy of the state opens with it.
const SALT: &[u8] = b"exflow state key v1";
const ROUNDS: u32 = 100_000;

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Sealed, but no key was given.
    #[error(
        "the stored tokens are encrypted: set {KEY_VAR} to the passphrase they were stored with"
    )]
    NoKey,
    /// Wrong key, or the value was changed.
    #[error(
        "the stored tokens do not open with this {KEY_VAR} (another passphrase, or a changed file)"
    )]
    Refused,
}

/// Seals and opens values under one key.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key>)")
    }
}

impl Sealer {
    /// The sealer of the passphrase in `EXFLOW_STATE_KEY`, when it is set and not empty.
    pub fn from_env() -> Option<Sealer> {
        std::env::var(KEY_VAR)
            .ok()
            .filter(|k| !k.is_empty())
            .map(|k| Sealer::new(&k))
    }

    /// The sealer of `passphrase`.
    pub fn new(passphrase: &str) -> Sealer {
        let mut key = [0u8; 32];
        let rounds = NonZeroU32::new(ROUNDS).unwrap_or(NonZeroU32::MIN);
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            SALT,
            passphrase.as_bytes(),
            &mut key,
        );
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &key)
            .unwrap_or_else(|_| unreachable!("a 32-byte key fits ChaCha20-Poly1305"));
        Sealer {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        }
    }

    /// `plain` sealed, bound to `context` (which row and column it is).
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        // The system RNG failing leaves nothing safe to do; there is no plain fallback.
        self.rng
            .fill(&mut nonce)
            .unwrap_or_else(|_| panic!("the system random generator failed"));
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .unwrap_or_else(|_| unreachable!("a token fits in one ChaCha20-Poly1305 message"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        )
    }

    /// Opens what [`Sealer::seal`] made with the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SealError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(SealError::Refused)?;
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| SealError::Refused)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Refused);
        }
        let mut data = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| SealError::Refused)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| SealError::Refused)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Refused)
    }
}

/// Whether a stored value is sealed (values stored before a key was set are plain).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// A stored value as plain text: opened when sealed, as it is when stored plain.
pub fn reveal(sealer: Option<&Sealer>, stored: String, context: &str) -> Result<String, SealError> {
    if !is_sealed(&stored) {
        return Ok(stored);
    }
    sealer.ok_or(SealError::NoKey)?.open(&stored, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_the_same_key_and_row_only() {
        let s = Sealer::new("correct horse");
        let sealed = s.seal("refresh-123", "k/refresh");
        assert!(is_sealed(&sealed) && !sealed.contains("refresh-123"));
        assert_ne!(sealed, s.seal("refresh-123", "k/refresh"), "a fresh nonce");
        assert_eq!(s.open(&sealed, "k/refresh").unwrap(), "refresh-123");
        assert!(s.open(&sealed, "k/access").is_err());
        assert!(Sealer::new("wrong").open(&sealed, "k/refresh").is_err());
        assert!(matches!(
            reveal(None, sealed, "k/refresh"),
            Err(SealError::NoKey)
        ));
        assert_eq!(reveal(None, "plain".into(), "x").unwrap(), "plain");
    }
}
