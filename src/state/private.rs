//! The state is the user's alone: its folder is made 0700 and its files (the database and
//! SQLite's `-wal` and `-shm` beside it) 0600, since they hold OAuth tokens and, in the
//! activity log, personal data. Elsewhere than Unix the platform's defaults stand.

use std::io;
use std::path::{Path, PathBuf};

/// Creates `dir` and its missing parents, the new ones readable by the user only.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The database file and the files SQLite keeps beside it.
fn files(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [db.to_path_buf(), with("-wal"), with("-shm")]
}

/// Creates the database file 0600 when it is missing (SQLite gives its `-wal` and `-shm`
/// the database's mode), and narrows the mode of those that exist with a wider one.
///
/// An existing database is never opened here: closing any descriptor of a file drops every
/// POSIX lock this process holds on it, SQLite's among them. A connection that lost its
/// shared lock lets another process, closing its last connection, checkpoint and delete
/// the WAL under it, and what it writes after that goes to an unlinked file nobody reads.
pub fn protect(db: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .create_new(true)
            .append(true)
            .mode(0o600)
            .open(db)
        {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        for file in files(db) {
            match std::fs::metadata(&file) {
                Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = files(db);
    Ok(())
}
