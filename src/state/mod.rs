//! The state store: one SQLite file per project (`.exflow/state.db`) holding what must
//! survive a run (OAuth tokens, cursors, id maps, the activity log).
//! May use: rusqlite, fs4. Never `connectors` or `sim`.

pub mod tokens;
