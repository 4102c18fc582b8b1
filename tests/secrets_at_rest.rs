//! Secrets at rest: the state folder and files are the user's alone, tokens are sealed
//! under `EXFLOW_STATE_KEY`, and `validate` warns about a secret written in `exflow.yaml`.

use exflow::state::seal::Sealer;
use exflow::state::tokens::{StoredToken, TokenStore, TokenStoreError};
use exflow::state::{SqliteStore, StateStore};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn token() -> StoredToken {
    StoredToken {
        access_token: "access-SECRET-1".into(),
        refresh_token: "refresh-SECRET-2".into(),
        access_expires_at: 600,
        refreshed_at: 1,
    }
}

#[test]
fn the_state_folder_and_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(".exflow/state.db");
    let store = SqliteStore::open(&db, false).unwrap();
    store.begin_run("orders").unwrap();
    let tokens = TokenStore::open_with(&db, None).unwrap();
    tokens.save("k", &token()).unwrap();
    assert_eq!(mode(db.parent().unwrap()), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", db.display());
        assert_eq!(mode(Path::new(&file)), 0o600, "{file}");
    }
    // A file made before this rule is narrowed when opened.
    drop((store, tokens));
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    SqliteStore::open(&db, false).unwrap();
    assert_eq!(mode(&db), 0o600);
}

#[test]
fn tokens_are_sealed_under_the_state_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let sealed = TokenStore::open_with(&db, Some(Sealer::new("pass phrase"))).unwrap();
    sealed.save("exact_online:app", &token()).unwrap();
    assert_eq!(sealed.load("exact_online:app").unwrap(), Some(token()));
    let bytes = std::fs::read(&db).unwrap_or_default();
    let wal = std::fs::read(format!("{}-wal", db.display())).unwrap_or_default();
    for file in [bytes, wal] {
        let text = String::from_utf8_lossy(&file);
        assert!(!text.contains("SECRET"), "a token is stored in plain text");
    }
    let plain = TokenStore::open_with(&db, None).unwrap();
    assert!(matches!(
        plain.load("exact_online:app"),
        Err(TokenStoreError::Sealed(_))
    ));
    let wrong = TokenStore::open_with(&db, Some(Sealer::new("another"))).unwrap();
    assert!(wrong.load("exact_online:app").is_err());
    // Tokens stored before a key was set still load, and are sealed on their next save.
    plain.save("old", &token()).unwrap();
    assert_eq!(sealed.load("old").unwrap(), Some(token()));
}

#[test]
fn validate_warns_about_a_secret_written_in_the_project_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pipelines")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("examples/default-debtor/pipelines/orders.yaml"),
        dir.path().join("pipelines/orders.yaml"),
    )
    .unwrap();
    let project = |globe_password: &str| {
        format!(
            "connections:\n  exact_online:\n    client_id: app\n    client_secret: ${{EXACT_ONLINE_CLIENT_SECRET}}\n  \
             exact_globe:\n    user: exflow\n    password: {globe_password}\n\
             vars:\n  default_debtor: \"  9999\"\n  shipping_item: VERZEND\n  shipping_cost: 6.95\n"
        )
    };
    let validate = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_exflow"))
            .arg("validate")
            .arg(dir.path())
            .env_remove("EXACT_ONLINE_CLIENT_SECRET")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    std::fs::write(dir.path().join("exflow.yaml"), project("hunter2")).unwrap();
    let (code, err) = validate();
    assert_eq!(code, Some(0), "a warning, not an error: {err}");
    assert!(err.contains("E123") && err.contains("`password`"), "{err}");
    assert!(
        !err.contains("hunter2"),
        "the warning shows the secret: {err}"
    );
    std::fs::write(
        dir.path().join("exflow.yaml"),
        project("${EXACT_GLOBE_PASSWORD}"),
    )
    .unwrap();
    let (code, err) = validate();
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("E123"), "{err}");
}
