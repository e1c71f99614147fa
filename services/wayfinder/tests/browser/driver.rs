//! Debian's chromium, driven through its chromedriver (WebDriver) with fantoccini: headless, a
//! new empty profile, no background networking (this machine's network is closed), one
//! screenshot per step under the test's output folder, and axe-core (a pinned copy from
//! `npm ci` beside this file) run inside the page.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The browser the tests use: Debian's packages (scripts/test.sh installs them when missing).
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The rules axe runs: WCAG 2.0 A and AA, 2.1 AA and 2.2 AA.
const AXE_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa", "best-practice"];

/// A running chromedriver, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
    _profiles: tempfile::TempDir,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it answers.
    pub async fn start() -> Driver {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "browser tests need Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver (scripts/test.sh does)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Driver { child, url, _profiles: tempfile::tempdir().unwrap() };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromedriver did not answer on port {port} within 10 s");
    }

    /// A new browser session (its own empty profile) with a window of `width`×`height`, its
    /// screenshots written under `shots`; `javascript: false` turns scripts off.
    pub async fn browser(&self, width: u32, height: u32, javascript: bool, shots: PathBuf) -> Browser {
        let profile = tempfile::tempdir_in(self._profiles.path()).unwrap().keep();
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            format!("--window-size={width},{height}"),
        ];
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false".to_owned());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), json!({ "binary": CHROMIUM, "args": args }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a chromium session");
        client.set_window_size(width, height).await.unwrap();
        std::fs::create_dir_all(&shots).unwrap();
        Browser { client, shots, step: 0 }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
pub struct Browser {
    pub client: Client,
    shots: PathBuf,
    step: u32,
}

/// An axe finding: its rule, impact and the elements it names (shown through `Debug` when a
/// page fails).
#[derive(Debug)]
#[allow(dead_code)]
pub struct Violation {
    pub rule: String,
    pub impact: String,
    pub help: String,
    pub targets: Vec<String>,
}

impl Browser {
    pub async fn goto(&mut self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|err| panic!("opening {url}: {err}"));
    }

    /// Writes a screenshot of the page as `NN-name.png`.
    pub async fn shot(&mut self, name: &str) {
        self.step += 1;
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.step)), png).unwrap();
    }

    /// The text of the first element matching `css`, once the page that a click or a form began
    /// loading has replaced the old one (a stale element is looked up again).
    pub async fn text_of(&self, css: &str) -> String {
        let mut last = String::new();
        for _ in 0..50 {
            self.loaded().await;
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => match element.text().await {
                    Ok(text) => return text,
                    Err(err) => last = err.to_string(),
                },
                Err(err) => last = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: {last}");
    }

    /// Waits until the current document has loaded.
    pub async fn loaded(&self) {
        for _ in 0..100 {
            let state = self.client.execute("return document.readyState", vec![]).await;
            if matches!(state, Ok(Value::String(ref s)) if s == "complete") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn page_text(&self) -> String {
        self.text_of("body").await
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}"));
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks the element matching `css` and waits for what it loads.
    pub async fn click(&self, css: &str) {
        self.loaded().await;
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}")).click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.loaded().await;
    }

    pub async fn current_path(&self) -> String {
        self.loaded().await;
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Runs axe-core in the page; returns the serious and critical findings.
    pub async fn axe(&self) -> Vec<Violation> {
        let source = axe_source();
        self.client.execute(&source, vec![]).await.expect("injecting axe-core");
        let script = "const done = arguments[arguments.length - 1];\
            axe.run(document, { runOnly: { type: 'tag', values: arguments[0] } })\
              .then(r => done(r.violations)).catch(e => done({ error: String(e) }));";
        let found = self.client.execute_async(script, vec![json!(AXE_TAGS)]).await.expect("running axe");
        if let Some(error) = found.get("error") {
            panic!("axe failed: {error}");
        }
        found
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| {
                let impact = v["impact"].as_str().unwrap_or_default().to_owned();
                (impact == "serious" || impact == "critical").then(|| Violation {
                    rule: v["id"].as_str().unwrap_or_default().to_owned(),
                    help: v["help"].as_str().unwrap_or_default().to_owned(),
                    impact,
                    targets: v["nodes"]
                        .as_array()
                        .map(|nodes| nodes.iter().map(|n| n["target"].to_string()).collect())
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Asserts axe finds nothing serious or critical on the page named `page`.
    pub async fn assert_accessible(&self, page: &str) {
        let found = self.axe().await;
        assert!(found.is_empty(), "axe on {page}: {found:#?}");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// axe.min.js from the pinned copy `npm ci` installs beside this file.
fn axe_source() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!("{}: {err}; run `npm ci` in services/wayfinder/tests/browser (scripts/test.sh does)", path.display())
    })
}
