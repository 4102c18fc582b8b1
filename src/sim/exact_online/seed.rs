//! Seed data: reference data, then generated customers, items and orders (or fixtures).

use super::store::Store;
use super::OnlineSimConfig;

/// Fills the store.
pub fn seed(_store: &mut Store, _config: &OnlineSimConfig, _now: i64) -> Result<(), String> {
    Ok(())
}
