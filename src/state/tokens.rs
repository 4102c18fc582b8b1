//! OAuth token pairs in the state store, saved atomically, with a cross-process refresh lock.
//!
//! Exact Online rotates the refresh token on every refresh: a pair that is not stored before
//! the new access token is used, or two processes refreshing at once, loses the connection
//! until a human consents again. So every save is one transaction, and refreshing happens
//! under an exclusive file lock (`<db>.token.lock`) that all processes of the project share.
//! With `EXFLOW_STATE_KEY` set, both tokens are stored sealed ([`super::seal`]).

use super::seal::{reveal, SealError, Sealer};
use rusqlite::{params, Connection, OptionalExtension};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A token pair as stored. Times are Unix seconds (UTC).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The bearer token for API calls; may be empty when only a refresh token is known.
    pub access_token: String,
    /// The (rotating) refresh token.
    pub refresh_token: String,
    /// When the access token expires; 0 when unknown (forces a refresh).
    pub access_expires_at: i64,
    /// When this pair was obtained from the token endpoint; 0 when imported.
    pub refreshed_at: i64,
}

impl fmt::Debug for StoredToken {
    // Tokens are secrets: only their presence is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("access_token", &redacted(&self.access_token))
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("access_expires_at", &self.access_expires_at)
            .field("refreshed_at", &self.refreshed_at)
            .finish()
    }
}

fn redacted(s: &str) -> &'static str {
    if s.is_empty() {
        "<none>"
    } else {
        "<redacted>"
    }
}

/// What can go wrong with the token store.
#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    /// The SQLite file could not be opened, migrated, read or written.
    #[error("token store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The lock file or the store's folder could not be created or locked.
    #[error("token store lock {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Sealed tokens that do not open (no key, or another key).
    #[error(transparent)]
    Sealed(#[from] SealError),
}

/// Creates the `oauth_tokens` table if it is missing.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS oauth_tokens (
            key TEXT PRIMARY KEY,
            access_token TEXT NOT NULL,
            refresh_token TEXT NOT NULL,
            access_expires_at INTEGER NOT NULL,
            refreshed_at INTEGER NOT NULL
        );",
    )
}

/// Token pairs keyed by connection (`exact_online:<client_id>`), in one SQLite file.
/// Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct TokenStore {
    path: PathBuf,
    conn: Arc<parking_lot::Mutex<Connection>>,
    sealer: Option<Arc<Sealer>>,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("path", &self.path)
            .finish()
    }
}

impl TokenStore {
    /// Opens (creating if needed) the store at `path` and migrates it; tokens are sealed
    /// with the key in `EXFLOW_STATE_KEY` when it is set.
    pub fn open(path: &Path) -> Result<TokenStore, TokenStoreError> {
        Self::open_with(path, Sealer::from_env())
    }

    /// [`TokenStore::open`] with the sealing key given (`None`: tokens stored plain).
    pub fn open_with(path: &Path, sealer: Option<Sealer>) -> Result<TokenStore, TokenStoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            super::private::create_dir(dir).map_err(|source| TokenStoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        super::private::protect(path).map_err(|source| TokenStoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::connect(path, sealer)
    }

    /// Opens the store at `path` only if the file exists, leaving the folder and the files'
    /// modes as they are: `exflow doctor` reports the state as it finds it, and creates
    /// nothing where there was nothing.
    pub fn open_existing(path: &Path) -> Result<Option<TokenStore>, TokenStoreError> {
        if !path.is_file() {
            return Ok(None);
        }
        Self::connect(path, Sealer::from_env()).map(Some)
    }

    fn connect(path: &Path, sealer: Option<Sealer>) -> Result<TokenStore, TokenStoreError> {
        let sqlite = |source| TokenStoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sqlite)?;
        // Other processes may hold a write transaction for a moment.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sqlite)?;
        migrate(&conn).map_err(sqlite)?;
        Ok(TokenStore {
            path: path.to_path_buf(),
            conn: Arc::new(parking_lot::Mutex::new(conn)),
            sealer: sealer.map(Arc::new),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored pair for `key`, read fresh from disk.
    pub fn load(&self, key: &str) -> Result<Option<StoredToken>, TokenStoreError> {
        let Some(mut token) = self.load_stored(key)? else {
            return Ok(None);
        };
        let sealer = self.sealer.as_deref();
        token.access_token = reveal(sealer, token.access_token, &context(key, "access_token"))?;
        token.refresh_token = reveal(sealer, token.refresh_token, &context(key, "refresh_token"))?;
        Ok(Some(token))
    }

    /// The row for `key` as stored (sealed or not).
    fn load_stored(&self, key: &str) -> Result<Option<StoredToken>, TokenStoreError> {
        let conn = self.conn.lock();
        conn.query_row(
            "SELECT access_token, refresh_token, access_expires_at, refreshed_at
             FROM oauth_tokens WHERE key = ?1",
            params![key],
            |row| {
                Ok(StoredToken {
                    access_token: row.get(0)?,
                    refresh_token: row.get(1)?,
                    access_expires_at: row.get(2)?,
                    refreshed_at: row.get(3)?,
                })
            },
        )
        .optional()
        .map_err(|source| self.sqlite(source))
    }

    /// Stores the pair for `key`, replacing the old one, in one transaction.
    pub fn save(&self, key: &str, token: &StoredToken) -> Result<(), TokenStoreError> {
        let seal = |value: &str, column: &str| match &self.sealer {
            Some(s) => s.seal(value, &context(key, column)),
            None => value.to_string(),
        };
        let (access, refresh) = (
            seal(&token.access_token, "access_token"),
            seal(&token.refresh_token, "refresh_token"),
        );
        let mut conn = self.conn.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|source| self.sqlite(source))?;
        tx.execute(
            "INSERT INTO oauth_tokens (key, access_token, refresh_token, access_expires_at, refreshed_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(key) DO UPDATE SET access_token = excluded.access_token,
                refresh_token = excluded.refresh_token,
                access_expires_at = excluded.access_expires_at,
                refreshed_at = excluded.refreshed_at",
            params![
                key,
                access,
                refresh,
                token.access_expires_at,
                token.refreshed_at
            ],
        )
        .map_err(|source| self.sqlite(source))?;
        tx.commit().map_err(|source| self.sqlite(source))
    }

    /// Takes the cross-process refresh lock, blocking until it is free. Released on drop.
    /// Call from a blocking context (`tokio::task::spawn_blocking`).
    pub fn lock_refresh(&self) -> Result<RefreshLock, TokenStoreError> {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".token.lock");
        let lock_path = PathBuf::from(name);
        let io = |source| TokenStoreError::Io {
            path: lock_path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io)?;
        fs4::fs_std::FileExt::lock_exclusive(&file).map_err(io)?;
        Ok(RefreshLock { file })
    }

    fn sqlite(&self, source: rusqlite::Error) -> TokenStoreError {
        TokenStoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }
}

/// What a sealed token is bound to: its row and column.
fn context(key: &str, column: &str) -> String {
    format!("oauth_tokens/{key}/{column}")
}

/// Holds the cross-process refresh lock until dropped.
#[derive(Debug)]
pub struct RefreshLock {
    file: File,
}

impl Drop for RefreshLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it prompt.
        let _ = fs4::fs_std::FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(n: i64) -> StoredToken {
        StoredToken {
            access_token: format!("a{n}"),
            refresh_token: format!("r{n}"),
            access_expires_at: 600 + n,
            refreshed_at: n,
        }
    }

    #[test]
    fn save_then_load_replaces_the_pair() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(&dir.path().join("sub/state.db")).unwrap();
        assert_eq!(store.load("k").unwrap(), None);
        store.save("k", &token(1)).unwrap();
        store.save("k", &token(2)).unwrap();
        assert_eq!(store.load("k").unwrap(), Some(token(2)));
        // A second handle (another process) sees the same pair.
        let other = TokenStore::open(&dir.path().join("sub/state.db")).unwrap();
        assert_eq!(other.load("k").unwrap(), Some(token(2)));
    }

    #[test]
    fn debug_never_shows_tokens() {
        let shown = format!("{:?}", token(7));
        assert!(!shown.contains("a7") && !shown.contains("r7"), "{shown}");
    }

    #[test]
    fn refresh_lock_is_exclusive_across_handles() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(&dir.path().join("state.db")).unwrap();
        let first = store.lock_refresh().unwrap();
        let other = TokenStore::open(&dir.path().join("state.db")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let _lock = other.lock_refresh().unwrap();
            tx.send(()).unwrap();
        });
        assert!(rx
            .recv_timeout(std::time::Duration::from_millis(200))
            .is_err());
        drop(first);
        assert!(rx.recv_timeout(std::time::Duration::from_secs(10)).is_ok());
        handle.join().unwrap();
    }
}
