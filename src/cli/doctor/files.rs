//! The state on disk: its folder and files readable by the user only (they hold the OAuth
//! tokens and, in the activity log, personal data; exflow makes them 0700 and 0600, see
//! `state::private`), and kept out of git when the project lives in a repository.

use super::Check;
use crate::pipeline::Project;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The permission check, then the git check.
pub fn checks(project: &Project) -> Vec<Check> {
    let db = project.state_path();
    vec![permissions(&db), git_ignored(&project.root, &db)]
}

/// The database file and the files SQLite keeps beside it.
fn state_files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
        .collect()
}

#[cfg(unix)]
fn permissions(db: &Path) -> Check {
    use std::os::unix::fs::PermissionsExt;
    const NAME: &str = "state.permissions";
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    };
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(dir_mode) = mode(dir) else {
        return Check::ok(
            NAME,
            format!(
                "no state yet ({} is made 0700 by the first command that needs it)",
                dir.display()
            ),
        );
    };
    let files: Vec<(PathBuf, u32)> = state_files(db)
        .into_iter()
        .filter_map(|f| mode(&f).map(|m| (f, m)))
        .collect();
    let open: Vec<&(PathBuf, u32)> = files.iter().filter(|(_, m)| m & 0o077 != 0).collect();
    if !open.is_empty() {
        let list: Vec<String> = open
            .iter()
            .map(|(f, m)| format!("{} is {m:04o}", f.display()))
            .collect();
        let names: Vec<String> = open.iter().map(|(f, _)| f.display().to_string()).collect();
        return Check::fail(
            NAME,
            format!(
                "{}: other users can read the OAuth tokens and the activity log",
                list.join(", ")
            ),
            format!(
                "chmod 600 {} (and ask who could read them: a leaked refresh token is a login)",
                names.join(" ")
            ),
        );
    }
    if dir_mode & 0o077 != 0 {
        return Check::warn(
            NAME,
            format!(
                "the state folder {} is {dir_mode:04o}: other users can see its files and make new ones",
                dir.display()
            ),
            format!("chmod 700 {}", dir.display()),
        );
    }
    let names: Vec<String> = files
        .iter()
        .filter_map(|(f, _)| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if names.is_empty() {
        return Check::ok(
            NAME,
            format!("{} is 0700, no state file yet", dir.display()),
        );
    }
    Check::ok(
        NAME,
        format!(
            "{} is {dir_mode:04o}; {} 0600 or narrower",
            dir.display(),
            names.join(", ")
        ),
    )
}

#[cfg(not(unix))]
fn permissions(_db: &Path) -> Check {
    Check::skip(
        "state.permissions",
        "file modes are checked on Unix only; here the folder's access rules apply",
    )
}

/// Runs git in `dir`; None when git is not there or the command failed.
fn git(dir: &Path, args: &[&str]) -> Option<std::process::Output> {
    Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()
}

/// Whether the state would be committed: a repository that tracks it, or does not ignore it.
fn git_ignored(root: &Path, db: &Path) -> Check {
    const NAME: &str = "state.gitignore";
    let top = match git(root, &["rev-parse", "--show-toplevel"]) {
        Some(out) if out.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
        Some(_) => return Check::ok(NAME, "the project is not in a git repository"),
        None => return Check::skip(NAME, "git is not installed: not checked"),
    };
    let dir = db.parent().unwrap_or(db);
    let relative = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_path_buf();
    // git names the top level by its real path; the state folder may not exist yet.
    let real = std::fs::canonicalize(dir).ok().or_else(|| {
        std::fs::canonicalize(root)
            .ok()
            .map(|r| r.join(relative(dir)))
    });
    if real.is_some_and(|d| !d.starts_with(&top)) {
        return Check::ok(NAME, "the state lies outside the git repository");
    }
    let path = relative(db).display().to_string();
    // The .gitignore entry: the state folder, or the file when it lies in the project root.
    let shown = match relative(dir).display().to_string() {
        d if d.is_empty() || d == "." => path.clone(),
        d => format!("{d}/"),
    };
    let tracked = git(root, &["ls-files", "--error-unmatch", "--", &path])
        .is_some_and(|o| o.status.success());
    if tracked {
        return Check::fail(
            NAME,
            format!(
                "{path} is committed to git: its OAuth tokens and personal data are in the history"
            ),
            format!(
                "git rm --cached {path}, add `{shown}` to .gitignore, and log in again \
                 (exflow auth exact-online) so the committed refresh token is dead"
            ),
        );
    }
    let ignored =
        git(root, &["check-ignore", "-q", "--", &path]).is_some_and(|o| o.status.success());
    if ignored {
        Check::ok(NAME, format!("{shown} is ignored by git"))
    } else {
        Check::warn(
            NAME,
            format!("{shown} is not git-ignored: a `git add .` would commit the tokens"),
            format!("echo '{shown}' >> .gitignore"),
        )
    }
}
