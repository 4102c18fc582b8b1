//! Finding a project's files: `exflow.yaml`, pipeline files, mapping tables and scripts,
//! from the paths a user gives (a project folder, a pipelines folder, single files).

use super::project::PROJECT_FILE;
use std::path::{Path, PathBuf};

/// What was found on disk before checking.
#[derive(Debug, Default)]
pub(super) struct Layout {
    /// The project folder.
    pub(super) root: PathBuf,
    /// `exflow.yaml`, when there is one.
    pub(super) project_file: Option<PathBuf>,
    /// Pipeline files.
    pub(super) pipelines: Vec<PathBuf>,
    /// Mapping table files.
    pub(super) tables: Vec<PathBuf>,
    /// rhai scripts.
    pub(super) scripts: Vec<PathBuf>,
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("yaml") | Some("yml")
                    )
                })
                .filter(|p| {
                    !p.to_string_lossy().ends_with(".test.yaml")
                        && p.file_name().and_then(|n| n.to_str()) != Some(PROJECT_FILE)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Where a pipelines folder keeps its tables and scripts.
pub(super) fn add_pipelines_dir(layout: &mut Layout, dir: &Path) {
    layout.pipelines.extend(yaml_files(dir));
    layout.tables.extend(yaml_files(&dir.join("tables")));
    layout
        .scripts
        .extend(files_with_ext(&dir.join("scripts"), "rhai"));
}

pub(super) fn discover(paths: &[PathBuf]) -> Layout {
    let mut layout = Layout::default();
    for path in paths {
        if path.is_dir() {
            if path.join(PROJECT_FILE).is_file() {
                layout.root = path.clone();
                layout.project_file = Some(path.join(PROJECT_FILE));
                add_pipelines_dir(&mut layout, &path.join("pipelines"));
            } else {
                add_pipelines_dir(&mut layout, path);
                if layout.project_file.is_none() {
                    let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    let parent = if parent.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        parent
                    };
                    if parent.join(PROJECT_FILE).is_file() {
                        layout.project_file = Some(parent.join(PROJECT_FILE));
                        layout.root = parent;
                    } else {
                        layout.root = path.clone();
                    }
                }
            }
        } else if path.file_name().and_then(|n| n.to_str()) == Some(PROJECT_FILE) {
            layout.project_file = Some(path.clone());
            layout.root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        } else if path.extension().and_then(|e| e.to_str()) == Some("rhai") {
            layout.scripts.push(path.clone());
        } else {
            let in_tables = path
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                == Some("tables");
            if in_tables {
                layout.tables.push(path.clone());
            } else {
                layout.pipelines.push(path.clone());
                // A single pipeline file still sees its folder's tables and scripts, and the
                // project file beside it or one level up.
                if let Some(dir) = path.parent() {
                    let dir = if dir.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        dir
                    };
                    layout.tables.extend(yaml_files(&dir.join("tables")));
                    layout
                        .scripts
                        .extend(files_with_ext(&dir.join("scripts"), "rhai"));
                    if layout.project_file.is_none() {
                        for candidate in [dir.to_path_buf(), dir.join("..")] {
                            if candidate.join(PROJECT_FILE).is_file() {
                                layout.project_file = Some(candidate.join(PROJECT_FILE));
                                layout.root = candidate;
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
    layout.pipelines.dedup();
    layout.tables.sort();
    layout.tables.dedup();
    layout.scripts.sort();
    layout.scripts.dedup();
    layout
}
