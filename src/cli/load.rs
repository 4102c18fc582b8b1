//! Loading the project and choosing pipelines for `plan` and `run`: every problem here is
//! the configuration's (exit code 2), reported with its diagnostics.

use super::output::{print_diagnostics, Format};
use crate::pipeline::{self, Pipeline, Project};
use chrono::{DateTime, NaiveDate, Utc};
use std::path::Path;

/// Loads the project in `dir` strictly (environment variables must be set), printing its
/// diagnostics on failure.
pub fn project(dir: &Path, format: Format) -> Option<Project> {
    checked(dir, format, true)
}

/// Loads the project in `dir` to read its state (`runs`, `activity`, `failed list`): the
/// connections' environment variables need not be set, as nothing is connected.
pub fn project_for_state(dir: &Path, format: Format) -> Option<Project> {
    checked(dir, format, false)
}

fn checked(dir: &Path, format: Format, strict: bool) -> Option<Project> {
    if !dir.exists() {
        eprintln!("error: {} does not exist", dir.display());
        return None;
    }
    let (project, diags) = pipeline::load(&[dir.to_path_buf()], strict);
    if diags.has_errors() || project.is_none() {
        print_diagnostics(&diags, format);
        return None;
    }
    if project.as_ref().is_some_and(|p| p.pipelines.is_empty()) {
        eprintln!(
            "error: no pipeline files in {} (a project holds exflow.yaml and pipelines/*.yaml)",
            dir.display()
        );
        return None;
    }
    project
}

/// Whether `a` writes what `b` requires (products write the items orders require).
fn feeds(a: &Pipeline, b: &Pipeline) -> bool {
    a.name != b.name
        && b.requires
            .iter()
            .any(|r| b.target.system == a.target.system && r.entity == a.target.entity)
}

/// The pipelines in project order, except that one writing what another requires runs first.
fn dependency_order(mut rest: Vec<&Pipeline>) -> Vec<&Pipeline> {
    let mut out = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        // The first one nothing left feeds; on a cycle, simply the first.
        let i = (0..rest.len())
            .find(|&i| !rest.iter().any(|o| feeds(o, rest[i])))
            .unwrap_or(0);
        out.push(rest.remove(i));
    }
    out
}

/// The pipelines called `names` (all of them when `names` is empty, those writing what others
/// require first), in the order asked.
pub fn pick<'p>(project: &'p Project, names: &[String]) -> Result<Vec<&'p Pipeline>, String> {
    if names.is_empty() {
        return Ok(dependency_order(project.pipelines.iter().collect()));
    }
    names
        .iter()
        .map(|n| {
            project.pipeline(n).ok_or_else(|| {
                let known: Vec<&str> = project.pipelines.iter().map(|p| p.name.as_str()).collect();
                format!("no pipeline `{n}` (the project has: {})", known.join(", "))
            })
        })
        .collect()
}

/// Parses `--since`: a date (`2026-01-31`, midnight UTC) or an RFC 3339 moment.
pub fn since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("--since {text:?}: expected a date like 2026-01-31"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pipeline_runs_after_those_it_depends_on() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (project, diags) = pipeline::load(&[root.join("pipelines")], false);
        let project = project.unwrap_or_else(|| panic!("{diags}"));
        let order: Vec<&str> = pick(&project, &[])
            .unwrap()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let at = |n: &str| order.iter().position(|o| *o == n).unwrap();
        assert!(at("products") < at("orders"), "{order:?}");
        // Contacts need their account in Exact Online: the customers flow makes it.
        assert!(at("customers") < at("customer_contacts"), "{order:?}");
        assert_eq!(order.len(), project.pipelines.len());
    }

    #[test]
    fn since_takes_dates_and_moments() {
        assert_eq!(
            since("2026-01-31").unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert_eq!(
            since("2026-01-31T10:00:00+01:00").unwrap().to_rfc3339(),
            "2026-01-31T09:00:00+00:00"
        );
        assert!(since("yesterday").is_err());
    }
}
