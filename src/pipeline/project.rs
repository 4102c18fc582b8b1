//! A project: `exflow.yaml` (connections, vars, state), the pipeline files, mapping tables
//! and rhai scripts. Loading it checks everything and compiles every pipeline.

use super::compile::{compile, Scope};
use super::def::{self, PipelineDef};
use super::diagnostic::{Diagnostic, Diagnostics};
use super::layout::{add_pipelines_dir, discover};
use super::model::Pipeline;
use super::service;
use super::source::{Loc, SourceFile};
use super::yaml::{self, Reader};
use crate::lang::{ScriptHost, Tables};
use marked_yaml::Node;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The project file's name.
pub const PROJECT_FILE: &str = "exflow.yaml";

/// How to reach Exact Online (values after `${ENV}` interpolation).
#[derive(Debug, Clone, Default)]
pub struct OnlineConnection {
    /// `https://start.exactonline.nl` (or .be, or the simulator).
    pub base_url: String,
    /// Division; read from `current/Me` when absent.
    pub division: Option<i32>,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret (from the environment).
    pub client_secret: String,
    /// Registered redirect URI.
    pub redirect_uri: String,
    /// Calls of the daily budget never spent.
    pub daily_reserve: u32,
}

/// How to reach Exact Globe's Entity Services.
#[derive(Debug, Clone, Default)]
pub struct GlobeConnection {
    /// `http://server:8020`.
    pub base_url: String,
    /// `ServerName` header.
    pub server_name: String,
    /// `DatabaseName` header (the administration).
    pub database_name: String,
    /// Integration user.
    pub user: String,
    /// Its password (from the environment).
    pub password: String,
}

/// `exflow.yaml`.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// State database path (relative to the project root when not absolute).
    pub state: PathBuf,
    /// Days of activity log kept.
    pub retention_days: u32,
    /// Store activity payloads with personal fields redacted.
    pub redact_payloads: bool,
    /// When failed records are tried again (`retry: {max_attempts, backoff_minutes}`).
    pub retry: crate::state::RetryPolicy,
    /// Exact Online connection.
    pub exact_online: Option<OnlineConnection>,
    /// Exact Globe connection.
    pub exact_globe: Option<GlobeConnection>,
    /// Folder of pipeline files.
    pub pipelines_dir: PathBuf,
    /// `serve:`: how `exflow serve` listens and takes webhooks.
    pub serve: super::service::ServeConfig,
    /// `notifications:`: who is told when something breaks.
    pub notify: super::service::NotifyConfig,
}

impl Default for ProjectConfig {
    fn default() -> Self {
        ProjectConfig {
            state: PathBuf::from(".exflow/state.db"),
            retention_days: 30,
            redact_payloads: false,
            retry: crate::state::RetryPolicy::default(),
            exact_online: None,
            exact_globe: None,
            pipelines_dir: PathBuf::from("pipelines"),
            serve: Default::default(),
            notify: Default::default(),
        }
    }
}

/// A loaded, checked project.
#[derive(Debug)]
pub struct Project {
    /// The folder holding `exflow.yaml` (or the pipelines folder when there is none).
    pub root: PathBuf,
    /// `exflow.yaml`.
    pub config: ProjectConfig,
    /// Every pipeline, compiled.
    pub pipelines: Vec<Pipeline>,
    /// Mapping tables.
    pub tables: Tables,
    /// rhai functions, if any script exists.
    pub scripts: Option<ScriptHost>,
    /// Project vars merged with nothing else (pipelines add theirs, see [`Project::vars_for`]).
    pub vars: serde_json::Value,
    pipeline_vars: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

impl Project {
    /// The pipeline called `name`.
    pub fn pipeline(&self, name: &str) -> Option<&Pipeline> {
        self.pipelines.iter().find(|p| p.name == name)
    }

    /// The vars a pipeline sees: the project's, overridden by the pipeline's own.
    pub fn vars_for(&self, pipeline: &str) -> serde_json::Value {
        let mut vars = match &self.vars {
            serde_json::Value::Object(m) => m.clone(),
            _ => serde_json::Map::new(),
        };
        if let Some(own) = self.pipeline_vars.get(pipeline) {
            for (k, v) in own {
                vars.insert(k.clone(), v.clone());
            }
        }
        serde_json::Value::Object(vars)
    }

    /// The state database path, resolved against the project root.
    pub fn state_path(&self) -> PathBuf {
        if self.config.state.is_absolute() {
            self.config.state.clone()
        } else {
            self.root.join(&self.config.state)
        }
    }
}

fn read_file(path: &Path, diags: &mut Diagnostics) -> Option<Arc<SourceFile>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(SourceFile::new(path, text)),
        Err(e) => {
            let file = SourceFile::new(path, String::new());
            diags.push(Diagnostic::error(
                "E101",
                Loc { file, span: 0..0 },
                format!("cannot read {}: {e}", path.display()),
            ));
            None
        }
    }
}

/// Replaces `${NAME}` and `${NAME:-default}` with the environment's values; a missing one
/// is an error when `strict` (a run), and left empty otherwise (validation runs without
/// secrets).
pub fn interpolate(text: &str, loc: &Loc, strict: bool, diags: &mut Diagnostics) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => out.push_str(&v),
            _ => match default {
                Some(d) => out.push_str(d),
                // Validation runs where secrets are not set (CI): only a run insists, but
                // the user hears of it before going live.
                None if !strict => {
                    let msg = format!("environment variable `{name}` is not set");
                    diags.push(
                        Diagnostic::warning("E117", loc.clone(), msg).with_help(format!(
                            "a run refuses to start without it: export {name}=... where exflow runs"
                        )),
                    );
                }
                None => {
                    let msg = format!("environment variable `{name}` is not set");
                    diags.push(
                        Diagnostic::error("E117", loc.clone(), msg).with_help(format!(
                            "export {name}=... before running; secrets never go in exflow.yaml"
                        )),
                    );
                }
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Warns (E123) when the secret under `key` is written in the file instead of read from the
/// environment: `exflow.yaml` lives in git.
fn literal_secret(
    r: &mut Reader,
    m: &marked_yaml::types::MarkedMappingNode,
    key: &str,
    system: &str,
    pending: &mut Diagnostics,
) {
    // Read directly: a value of the wrong kind is reported once, by the caller's read.
    let Some((_, Node::Scalar(value))) = r.entry(m, key) else {
        return;
    };
    if value.as_str().trim().is_empty() || value.as_str().contains("${") {
        return;
    }
    let loc = r.loc(&Node::Scalar(value.clone()));
    let name = format!("{system}_{key}").to_ascii_uppercase();
    pending.push(
        Diagnostic::warning(
            "E123",
            loc,
            format!("`{key}` is written in exflow.yaml: a secret in a file under version control"),
        )
        .with_help(format!(
            "write `{key}: ${{{name}}}` and export {name} where exflow runs"
        ))
        .masking_value(),
    );
}

pub(crate) const PROJECT_KEYS: &[&str] = &[
    "project",
    "state",
    "retention_days",
    "redact_payloads",
    "retry",
    "connections",
    "vars",
    "pipelines",
    "serve",
    "notifications",
];

fn read_project_file(
    file: &Arc<SourceFile>,
    strict: bool,
    diags: &mut Diagnostics,
) -> (ProjectConfig, serde_json::Map<String, serde_json::Value>) {
    let mut config = ProjectConfig::default();
    let mut vars = serde_json::Map::new();
    let root = match yaml::parse(file) {
        Ok(n) => n,
        Err(d) => {
            diags.push(*d);
            return (config, vars);
        }
    };
    let mut pending = Diagnostics::default();
    {
        let mut r = Reader::new(file.clone(), diags);
        let Some(top) = r.mapping(&root, "exflow.yaml") else {
            return (config, vars);
        };
        r.check_keys(top, PROJECT_KEYS, "exflow.yaml");
        if let Some(s) = r.text(top, "state", None) {
            config.state = PathBuf::from(interpolate(&s.value, &s.loc, strict, &mut pending));
        }
        if let Some(s) = r.text(top, "pipelines", None) {
            config.pipelines_dir = PathBuf::from(s.value);
        }
        if let Some(s) = r.text(top, "retention_days", None) {
            match s.value.parse() {
                Ok(n) => config.retention_days = n,
                Err(_) => r.diags.push(Diagnostic::error(
                    "E101",
                    s.loc,
                    "`retention_days` must be a whole number of days",
                )),
            }
        }
        if let Some(b) = r.boolean(top, "redact_payloads") {
            config.redact_payloads = b;
        }
        if let Some((_, node)) = r.entry(top, "retry") {
            if let Some(m) = r.mapping(node, "`retry`") {
                r.check_keys(m, &["max_attempts", "backoff_minutes"], "`retry`");
                for key in ["max_attempts", "backoff_minutes"] {
                    let Some(s) = r.text(m, key, None) else {
                        continue;
                    };
                    match (key, s.value.trim().parse::<u32>()) {
                        ("max_attempts", Ok(n)) => config.retry.max_attempts = n,
                        (_, Ok(n)) => {
                            config.retry.backoff = chrono::Duration::minutes(i64::from(n))
                        }
                        (_, Err(_)) => r.diags.push(Diagnostic::error(
                            "E101",
                            s.loc,
                            format!("`retry.{key}` must be a whole number"),
                        )),
                    }
                }
            }
        }
        if let Some((_, node)) = r.entry(top, "vars") {
            match yaml::to_json(node) {
                serde_json::Value::Object(m) => vars = m,
                _ => {
                    let loc = r.loc(node);
                    r.diags.push(Diagnostic::error(
                        "E101",
                        loc,
                        "`vars` must be a mapping of names to values",
                    ));
                }
            }
        }
        for key in ["serve", "notifications"] {
            if let Some((_, node)) = r.entry(top, key) {
                let (loc, value) = (r.loc(node), yaml::to_json(node));
                let d = &mut pending;
                if key == "serve" {
                    config.serve = service::read_section(value, key, &loc, strict, d);
                    service::check_serve(&config.serve, &loc, d);
                } else {
                    config.notify = service::read_section(value, key, &loc, strict, d);
                    service::check_notify(&config.notify, &loc, d);
                }
            }
        }
        if let Some((_, node)) = r.entry(top, "connections") {
            if let Some(conns) = r.mapping(node, "`connections`") {
                r.check_keys(conns, &["exact_online", "exact_globe"], "`connections`");
                let get = |r: &mut Reader,
                           m: &marked_yaml::types::MarkedMappingNode,
                           key: &str,
                           pending: &mut Diagnostics|
                 -> Option<String> {
                    r.text(m, key, None)
                        .map(|s| interpolate(&s.value, &s.loc, strict, pending))
                };
                if let Some((_, n)) = r.entry(conns, "exact_online") {
                    if let Some(m) = r.mapping(n, "`exact_online`") {
                        r.check_keys(
                            m,
                            &[
                                "base_url",
                                "division",
                                "client_id",
                                "client_secret",
                                "redirect_uri",
                                "daily_reserve",
                            ],
                            "`exact_online`",
                        );
                        let division = get(&mut r, m, "division", &mut pending)
                            .and_then(|d| d.trim().parse().ok());
                        config.exact_online = Some(OnlineConnection {
                            base_url: get(&mut r, m, "base_url", &mut pending)
                                .unwrap_or_else(|| "https://start.exactonline.nl".to_string()),
                            division,
                            client_id: get(&mut r, m, "client_id", &mut pending)
                                .unwrap_or_default(),
                            client_secret: {
                                literal_secret(
                                    &mut r,
                                    m,
                                    "client_secret",
                                    "exact_online",
                                    &mut pending,
                                );
                                get(&mut r, m, "client_secret", &mut pending).unwrap_or_default()
                            },
                            redirect_uri: get(&mut r, m, "redirect_uri", &mut pending)
                                .unwrap_or_else(|| "http://127.0.0.1:8787/callback".to_string()),
                            daily_reserve: get(&mut r, m, "daily_reserve", &mut pending)
                                .and_then(|d| d.trim().parse().ok())
                                .unwrap_or(500),
                        });
                    }
                }
                if let Some((_, n)) = r.entry(conns, "exact_globe") {
                    if let Some(m) = r.mapping(n, "`exact_globe`") {
                        r.check_keys(
                            m,
                            &[
                                "base_url",
                                "server_name",
                                "database_name",
                                "user",
                                "password",
                            ],
                            "`exact_globe`",
                        );
                        config.exact_globe = Some(GlobeConnection {
                            base_url: get(&mut r, m, "base_url", &mut pending)
                                .unwrap_or_else(|| "http://localhost:8020".to_string()),
                            server_name: get(&mut r, m, "server_name", &mut pending)
                                .unwrap_or_else(|| "localhost".to_string()),
                            database_name: get(&mut r, m, "database_name", &mut pending)
                                .unwrap_or_else(|| "500".to_string()),
                            user: get(&mut r, m, "user", &mut pending).unwrap_or_default(),
                            password: {
                                literal_secret(&mut r, m, "password", "exact_globe", &mut pending);
                                get(&mut r, m, "password", &mut pending).unwrap_or_default()
                            },
                        });
                    }
                }
            }
        }
    }
    diags.0.extend(pending.0);
    (config, vars)
}

fn read_table(file: &Arc<SourceFile>, tables: &mut Tables, diags: &mut Diagnostics) {
    let name = file
        .path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("table")
        .to_string();
    let root = match yaml::parse(file) {
        Ok(n) => n,
        Err(d) => {
            diags.push(*d);
            return;
        }
    };
    let mut r = Reader::new(file.clone(), diags);
    let Some(top) = r.mapping(&root, "a mapping table") else {
        return;
    };
    // Either a plain mapping, or `entries:` with an optional `default:` and `description:`.
    let has_entries = r.entry(top, "entries").is_some();
    let (entries_node, default) = if has_entries {
        r.check_keys(
            top,
            &["description", "default", "entries"],
            "a mapping table",
        );
        let default = r.entry(top, "default").map(|(_, n)| yaml::to_json(n));
        (r.entry(top, "entries").map(|(_, n)| n.clone()), default)
    } else {
        (Some(root.clone()), None)
    };
    let mut entries = indexmap::IndexMap::new();
    if let Some(Node::Mapping(m)) = &entries_node {
        for (k, v) in m.iter() {
            entries.insert(k.as_str().to_string(), yaml::to_json(v));
        }
    } else if let Some(n) = &entries_node {
        let loc = r.loc(n);
        r.diags.push(Diagnostic::error(
            "E115",
            loc,
            "`entries` must be a mapping of key to value",
        ));
        return;
    }
    tables.insert(&name, entries, default);
}

fn read_scripts(files: &[PathBuf], diags: &mut Diagnostics) -> Option<ScriptHost> {
    if files.is_empty() {
        return None;
    }
    let mut sources = Vec::new();
    let mut by_path = BTreeMap::new();
    for p in files {
        if let Some(f) = read_file(p, diags) {
            sources.push((p.display().to_string(), f.text().to_string()));
            by_path.insert(p.display().to_string(), f);
        }
    }
    match ScriptHost::load(&sources) {
        Ok(h) => Some(h),
        Err(errors) => {
            for e in errors {
                let file = by_path
                    .get(&e.file)
                    .cloned()
                    .unwrap_or_else(|| SourceFile::new(&e.file, String::new()));
                let at = file.offset(e.line.max(1), e.column.max(1));
                diags.push(Diagnostic::error("E116", Loc { file, span: at..at + 1 }, e.message.clone()).with_help("fix the script; exflow runs scripts sandboxed without file or network access"));
            }
            None
        }
    }
}

/// Loads and checks everything under `paths` (pipeline files, folders, `exflow.yaml`).
/// `strict` makes a missing environment variable an error (for runs, not for validation).
pub fn load(paths: &[PathBuf], strict: bool) -> (Option<Project>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let layout = discover(paths);
    let (config, vars) = match &layout.project_file {
        Some(p) => match read_file(p, &mut diags) {
            Some(f) => read_project_file(&f, strict, &mut diags),
            None => (ProjectConfig::default(), serde_json::Map::new()),
        },
        None => (ProjectConfig::default(), serde_json::Map::new()),
    };
    let mut layout = layout;
    if layout.project_file.is_some() && layout.pipelines.is_empty() {
        let dir = layout.root.join(&config.pipelines_dir);
        add_pipelines_dir(&mut layout, &dir);
    }

    let mut tables = Tables::new();
    for t in &layout.tables {
        if let Some(f) = read_file(t, &mut diags) {
            read_table(&f, &mut tables, &mut diags);
        }
    }
    let scripts = read_scripts(&layout.scripts, &mut diags);

    let mut defs: Vec<PipelineDef> = Vec::new();
    for p in &layout.pipelines {
        if let Some(f) = read_file(p, &mut diags) {
            if let Some(d) = def::read(&f, &mut diags) {
                if let Some(prev) = defs.iter().find(|x| x.name.value == d.name.value) {
                    let (line, _) = prev.name.loc.line_col();
                    diags.push(Diagnostic::error(
                        "E114",
                        d.name.loc.clone(),
                        format!(
                            "pipeline `{}` is already defined in {}:{line}",
                            d.name.value,
                            prev.file.path.display()
                        ),
                    ));
                    continue;
                }
                defs.push(d);
            }
        }
    }

    let mut pipelines = Vec::new();
    let mut pipeline_vars = BTreeMap::new();
    for d in &defs {
        let mut scope = Scope {
            vars: vars.keys().cloned().collect(),
            tables: tables.names().into_iter().collect(),
            scripts: scripts.as_ref().map(|s| s.functions()).unwrap_or_default(),
        };
        scope.vars.extend(d.vars.keys().cloned());
        if let Some(p) = compile(d, &scope, &mut diags) {
            pipelines.push(p);
        }
        pipeline_vars.insert(d.name.value.clone(), d.vars.clone());
    }
    let diags = diags.sorted();
    if diags.has_errors() {
        return (None, diags);
    }
    let project = Project {
        root: if layout.root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            layout.root
        },
        config,
        pipelines,
        tables,
        scripts,
        vars: serde_json::Value::Object(vars),
        pipeline_vars,
    };
    (Some(project), diags)
}

/// Reads only the project file of `dir` (or the one above a `pipelines/` folder), leniently:
/// unset environment variables are left empty. For commands that need the connections but
/// not the pipelines (`fetch`, `auth`). `None` when there is no project file.
pub fn read_connections(dir: &Path) -> Option<(PathBuf, ProjectConfig)> {
    let layout = discover(&[dir.to_path_buf()]);
    let path = layout.project_file?;
    let mut diags = Diagnostics::default();
    let file = read_file(&path, &mut diags)?;
    let (config, _) = read_project_file(&file, false, &mut diags);
    let root = if layout.root.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        layout.root
    };
    Some((root, config))
}

/// Loads the project in `dir` for a run: environment variables must be set.
pub fn load_project(dir: &Path) -> Result<Project, Diagnostics> {
    match load(&[dir.to_path_buf()], true) {
        (Some(p), _) => Ok(p),
        (None, d) => Err(d),
    }
}

/// Checks one pipeline text on its own (no files touched): for editors, tests and fuzzing.
pub fn check_source(file: &Arc<SourceFile>, scope: &Scope) -> (Option<Pipeline>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let pipeline = def::read(file, &mut diags).and_then(|d| {
        let mut scope = scope.clone();
        scope.vars.extend(d.vars.keys().cloned());
        compile(&d, &scope, &mut diags)
    });
    (pipeline, diags)
}
