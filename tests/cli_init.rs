//! `exflow init` through the real binary against both simulators: scripted (`--yes` and
//! flags, the Exact Online login completed through the simulator's authorize page), then
//! the written project validates, plans and runs, and what the wizard was told lands in the
//! tables and in Globe; answered in a pseudo-terminal (expectrl); and the refusals: an
//! existing project, no terminal without `--yes`.

use assert_cmd::Command;
use exflow::sim::exact_globe::{GlobeSim, GlobeSimConfig};
use exflow::sim::exact_online::{OnlineSim, OnlineSimConfig};
use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Regex};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_exflow");

/// The variables `init` reads defaults from: none may leak in from the test's shell.
const CLEARED: [&str; 8] = [
    "EXACT_ONLINE_BASE_URL",
    "EXACT_ONLINE_CLIENT_ID",
    "EXACT_ONLINE_REDIRECT_URI",
    "EXACT_ONLINE_DIVISION",
    "EXACT_GLOBE_BASE_URL",
    "EXACT_GLOBE_SERVER",
    "EXACT_GLOBE_DATABASE",
    "EXACT_GLOBE_USER",
];

/// The secrets, as a user exports them; only their names may end up in files.
const SECRETS: [(&str, &str); 2] = [
    ("EXACT_ONLINE_CLIENT_SECRET", "exflow-sim-secret"),
    ("EXACT_GLOBE_PASSWORD", "exflow"),
];

struct Sims {
    online: OnlineSim,
    globe: GlobeSim,
}

async fn sims() -> Sims {
    let online = OnlineSimConfig {
        orders: 24,
        customers: 12,
        products: 25,
        minutely_limit: 100_000,
        daily_limit: 1_000_000,
        ..OnlineSimConfig::default()
    };
    let any = "127.0.0.1:0".parse().unwrap();
    Sims {
        online: OnlineSim::start(online, any).await.unwrap(),
        globe: GlobeSim::start(GlobeSimConfig::default(), any)
            .await
            .unwrap(),
    }
}

fn exflow(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).timeout(Duration::from_secs(240));
    for v in CLEARED {
        c.env_remove(v);
    }
    c.envs(SECRETS);
    c
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(path: &Path) -> serde_yaml::Value {
    serde_yaml::from_str(&read(path)).unwrap()
}

/// The simulator approves at once: following its authorize page's redirect is the user
/// logging in, and lands on the wizard's one-shot listener.
async fn approve(authorize: &str) {
    let r = reqwest::get(authorize).await.unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("exflow is connected"), "{body}");
}

fn authorize_url(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.contains("/api/oauth2/auth?"))
        .map(|w| w.trim_matches(|c: char| c.is_control()).to_string())
}

/// No file the wizard wrote holds a secret's value.
fn no_secret_in(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with(".exflow") {
                no_secret_in(&p);
            }
            continue;
        }
        // The Globe password of the simulator is also its user's name: the client secret is
        // the value that must be nowhere.
        let text = read(&p);
        assert!(
            !text.contains(SECRETS[0].1),
            "{} holds a secret",
            p.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_init_writes_a_project_that_validates_plans_and_runs() {
    let sims = sims().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shop");
    let mut child = std::process::Command::new(BIN);
    child
        .arg("init")
        .arg(&dir)
        .args(["--yes", "--online-url", &sims.online.base_url()])
        .args(["--client-id", "exflow-sim"])
        .args(["--redirect-uri", "http://127.0.0.1:0/callback"])
        .args([
            "--globe-url",
            &sims.globe.base_url(),
            "--globe-user",
            "exflow",
        ])
        .args(["--home-country", "be", "--payment-condition", "PS=00"])
        .args(["--auth-timeout", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for v in CLEARED {
        child.env_remove(v);
    }
    child.envs(SECRETS);
    let mut child = child.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(url) = authorize_url(&line) {
                let _ = tx.send(url);
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let url = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("init prints the authorize URL");
    assert!(url.starts_with(&sims.online.base_url()), "{url}");
    approve(&url).await;
    let status = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let out = reader.join().unwrap();
    let err = String::from_utf8_lossy(&status.stderr).into_owned();
    assert!(status.status.success(), "{out}\n{err}");
    let division = sims.online.division();
    assert!(
        out.contains(&format!("Connected to Exact Online division {division}.")),
        "{out}"
    );
    assert!(
        out.contains("Exact Globe answered: administration 500"),
        "{out}"
    );
    assert!(
        out.contains("ok: 4 pipeline(s) valid (customer_contacts, customers, orders, products)"),
        "{out}\n{err}"
    );
    assert!(out.contains("plan products:"), "{out}");

    // What the wizard was told is in the files, and no secret is.
    let project = read(&dir.join("exflow.yaml"));
    assert!(
        project.starts_with("# yaml-language-server: $schema=exflow.project.schema.json\n"),
        "{project}"
    );
    let p = yaml(&dir.join("exflow.yaml"));
    assert_eq!(p["vars"]["home_country"], "BE");
    assert_eq!(p["vars"]["prices_include_vat"], false);
    assert_eq!(p["connections"]["exact_online"]["division"], division);
    assert_eq!(
        p["connections"]["exact_online"]["client_secret"],
        "${EXACT_ONLINE_CLIENT_SECRET}"
    );
    assert_eq!(
        p["connections"]["exact_globe"]["password"],
        "${EXACT_GLOBE_PASSWORD}"
    );
    no_secret_in(&dir);
    let orders = read(&dir.join("pipelines/orders.yaml"));
    assert!(orders.starts_with("# yaml-language-server: $schema=../exflow.pipeline.schema.json\n"));
    assert!(!dir.join("pipelines/orders.test.yaml").exists());
    let vat = yaml(&dir.join("pipelines/tables/debtor_vat_by_country.yaml"));
    assert_eq!(vat["entries"]["BE"], "1", "home: domestic VAT");
    assert_eq!(vat["entries"]["NL"], "3", "the Netherlands: intra-EU");
    let pay = yaml(&dir.join("pipelines/tables/payment_conditions.yaml"));
    assert_eq!(pay["entries"]["PS"], "00");
    assert_eq!(pay["entries"]["14"], "14");
    // Read live: every Exact Online payment condition and VAT rate, and only those.
    let online_codes: Vec<String> = sims
        .online
        .records("PaymentConditions")
        .iter()
        .map(|r| r["Code"].as_str().unwrap().trim().to_string())
        .collect();
    let table_codes: Vec<String> = pay["entries"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let mut sorted = online_codes.clone();
    sorted.sort();
    assert_eq!(table_codes, sorted);
    let rates = yaml(&dir.join("pipelines/tables/vat_rates.yaml"));
    assert_eq!(rates["entries"]["2"].as_f64(), Some(0.09));
    let ignore = read(&dir.join(".gitignore"));
    assert!(ignore.lines().any(|l| l == ".exflow/"), "{ignore}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(".exflow/state.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the token store is private: {mode:o}");
    }

    // The project works as written, with the tokens the wizard's login stored.
    exflow(&dir).arg("validate").assert().success();
    exflow(&dir).args(["plan", "products"]).assert().success();
    let run = exflow(&dir).arg("run").output().unwrap();
    let run_out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{run_out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Orders Exact Online pays through the webshop (PS) arrive in Globe as `00`, as told.
    let ps: Vec<String> = sims
        .online
        .records("SalesOrders")
        .into_iter()
        .filter(|o| o["PaymentCondition"] == "PS")
        .map(|o| o["OrderNumber"].to_string())
        .collect();
    let headers = sims.globe.records("SalesOrderHeader");
    let mine: Vec<&Value> = headers
        .iter()
        .filter(|h| {
            ps.iter()
                .any(|n| h["YourReference"].as_str().map(str::trim) == Some(n))
        })
        .collect();
    assert!(!mine.is_empty(), "no PS order reached Globe: {run_out}");
    for h in mine {
        assert_eq!(
            h["PaymentCondition"].as_str().map(str::trim),
            Some("00"),
            "{h}"
        );
    }
}

/// Waits for a prompt, then types `text` and Enter (Enter alone keeps the default).
fn answer(s: &mut OsSession, prompt: &str, text: &str) {
    s.expect(prompt)
        .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
    s.send(format!("{text}\r")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_answered_in_a_terminal() {
    let sims = sims().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("terminal");
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("init").arg(&dir).env("TERM", "xterm");
    for v in CLEARED {
        cmd.env_remove(v);
    }
    cmd.envs(SECRETS);
    let online_url = sims.online.base_url();
    let globe_url = sims.globe.base_url();
    let session = tokio::task::spawn_blocking(move || {
        let mut s = expectrl::Session::spawn(cmd).unwrap();
        s.set_expect_timeout(Some(Duration::from_secs(60)));
        answer(&mut s, "Exact Online base URL", &online_url);
        answer(&mut s, "Client id", "exflow-sim");
        answer(&mut s, "holding the client secret", "");
        answer(&mut s, "Redirect URI", "http://127.0.0.1:0/callback");
        answer(&mut s, "Log in to Exact Online now?", "");
        let found = s
            .expect(Regex(
                r"http://127\.0\.0\.1:\d+/api/oauth2/auth\?[^\s\x1b]+",
            ))
            .unwrap();
        let url = String::from_utf8_lossy(found.get(0).unwrap()).into_owned();
        (s, url, globe_url)
    })
    .await
    .unwrap();
    let (mut s, url, globe_url) = session;
    approve(&url).await;
    let out = tokio::task::spawn_blocking(move || {
        s.expect("Connected to Exact Online division").unwrap();
        answer(&mut s, "Entity Services URL", &globe_url);
        answer(&mut s, "ServerName", "");
        answer(&mut s, "DatabaseName", "");
        answer(&mut s, "Globe user", "exflow");
        answer(&mut s, "holding the Globe password", "");
        s.expect("Exact Globe answered").unwrap();
        answer(&mut s, "Flows to enable", "");
        answer(&mut s, "one default debtor", "");
        answer(&mut s, "Match customers", "");
        s.expect("prices include VAT?").unwrap();
        s.send("y").unwrap();
        answer(&mut s, "Home country", "");
        answer(&mut s, "Keep this mapping of payment conditions?", "");
        answer(&mut s, "Keep this mapping of VAT codes?", "");
        let done = s.expect(Eof).unwrap();
        String::from_utf8_lossy(done.as_bytes()).into_owned()
    })
    .await
    .unwrap();
    assert!(out.contains("ok: 4 pipeline(s) valid"), "{out}");
    let p = yaml(&dir.join("exflow.yaml"));
    assert_eq!(p["vars"]["prices_include_vat"], true);
    assert_eq!(p["connections"]["exact_globe"]["user"], "exflow");
    assert_eq!(
        p["connections"]["exact_online"]["division"],
        sims.online.division()
    );
    no_secret_in(&dir);
    exflow(&dir).arg("validate").assert().success();
}

#[test]
fn an_existing_project_is_not_overwritten_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("exflow.yaml"), "project: mine\n").unwrap();
    let quiet = ["--yes", "--skip-auth", "--skip-globe-test"];
    let out = exflow(dir)
        .arg("init")
        .arg(dir)
        .args(quiet)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exists already"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(read(&dir.join("exflow.yaml")), "project: mine\n");
    assert!(!dir.join("pipelines").exists());

    // With --force, and customers matched by code: written, and valid.
    let out = exflow(dir)
        .arg("init")
        .arg(dir)
        .args(quiet)
        .args([
            "--force",
            "--match-customers-by",
            "code",
            "--flows",
            "customers,orders",
        ])
        .args(["--default-debtor", "1000"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("ok: 2 pipeline(s) valid (customers, orders)"),
        "{text}"
    );
    assert!(text.contains("exflow plan: not run"), "{text}");
    let customers = read(&dir.join("pipelines/customers.yaml"));
    assert!(
        customers.contains("match: Code == trim(DebtorNumber)"),
        "{customers}"
    );
    assert!(!dir.join("pipelines/products.yaml").exists());
    assert_eq!(
        yaml(&dir.join("exflow.yaml"))["vars"]["default_debtor"],
        "1000"
    );
}

#[test]
fn without_a_terminal_init_asks_for_yes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = exflow(tmp.path())
        .args(["init", "."])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a terminal"), "{err}");
    assert!(err.contains("pass --yes"), "{err}");
    assert!(!tmp.path().join("exflow.yaml").exists());
}
