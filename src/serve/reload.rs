//! Hot reload: the project files are fingerprinted (path, size, modification time) every
//! few seconds; a change is loaded and checked like `exflow validate`, and only a project
//! that validates replaces the running one. A broken edit is logged and notified, and the
//! previous configuration keeps running.

use crate::pipeline::{self, Project};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

fn walk(dir: &Path, h: &mut DefaultHasher, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            // The state folder changes at every run; it is not configuration.
            if depth < 4 && !e.file_name().to_string_lossy().starts_with('.') {
                walk(&path, h, depth + 1);
            }
            continue;
        }
        let name = path.to_string_lossy();
        if !(name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".rhai")) {
            continue;
        }
        name.hash(h);
        meta.len().hash(h);
        if let Ok(m) = meta.modified() {
            m.hash(h);
        }
        // Same size and same second: the content decides.
        if let Ok(text) = std::fs::read(&path) {
            text.hash(h);
        }
    }
}

/// A fingerprint of every configuration file under `root`.
pub fn fingerprint(root: &Path) -> u64 {
    let mut h = DefaultHasher::new();
    walk(root, &mut h, 0);
    h.finish()
}

/// Loads `root` strictly; on failure, the diagnostics one a line.
pub fn load(root: &Path) -> Result<Project, String> {
    let (project, diags) = pipeline::load(&[root.to_path_buf()], true);
    match project {
        Some(p) if !diags.has_errors() => {
            if p.pipelines.is_empty() {
                Err(format!("no pipeline files in {}", root.display()))
            } else {
                Ok(p)
            }
        }
        _ => Err(diags
            .0
            .iter()
            .filter(|d| d.severity == pipeline::Severity::Error)
            .map(|d| d.one_line())
            .collect::<Vec<_>>()
            .join("\n")),
    }
}
