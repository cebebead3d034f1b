//! A minimal W3C WebDriver client for the real-browser tests: starts `chromedriver` on a
//! free port, opens one headless Chromium session, and offers the few commands the tests
//! need. The browser comes from Debian (`chromium`, `chromium-driver`), found through
//! CHROME_BIN and CHROMEDRIVER (defaults /usr/bin/chromium, /usr/bin/chromedriver).
//!
//! When the browser is missing, [`Browser::start`] prints "skipped: no chromium" and returns
//! `None`, unless the variable CI is set: in CI a missing browser fails the test.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

/// The key under which W3C WebDriver returns element references.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element {
    id: String,
}

/// One browser session and the chromedriver process behind it.
pub struct Browser {
    http: reqwest::Client,
    port: u16,
    base: String,
    session: Option<String>,
    driver: Option<Child>,
    profile: tempfile::TempDir,
}

fn binary(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// The WebDriver answer's `value`, or its error as an `Err`.
fn unwrap_value(status: reqwest::StatusCode, body: Value) -> Result<Value> {
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if !status.is_success() {
        let err = value["error"].as_str().unwrap_or("unknown error");
        let msg = value["message"].as_str().unwrap_or("");
        let first = msg.lines().next().unwrap_or("");
        bail!("webdriver {status}: {err}: {first}");
    }
    Ok(value)
}

impl Browser {
    /// Starts chromedriver and a headless session, or `None` (after printing "skipped: no
    /// chromium") when the browser is not installed and CI is unset.
    pub async fn start() -> Option<Browser> {
        let chrome = binary("CHROME_BIN", "/usr/bin/chromium");
        let driver = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
        if !chrome.exists() || !driver.exists() {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "CI is set but the browser is missing ({} / {}); run scripts/test, which installs chromium and chromium-driver",
                    chrome.display(),
                    driver.display()
                );
            }
            println!("skipped: no chromium");
            return None;
        }
        let mut last = None;
        // The free port may be taken between choosing and binding it: try a few.
        for _ in 0..3 {
            match Self::launch(&chrome, &driver).await {
                Ok(b) => return Some(b),
                Err(e) => last = Some(e),
            }
        }
        panic!("cannot start the browser: {:#}", last.unwrap());
    }

    async fn launch(chrome: &std::path::Path, driver: &std::path::Path) -> Result<Browser> {
        let profile = tempfile::tempdir()?;
        let port = free_port();
        let log = std::fs::File::create(profile.path().join("chromedriver.log"))?;
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", driver.display()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()?;
        let mut b = Browser {
            http,
            port,
            base: format!("http://127.0.0.1:{port}"),
            session: None,
            driver: Some(child),
            profile,
        };
        b.wait_ready().await?;
        let user_data = b.profile.path().join("profile");
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": {
                        "binary": chrome.to_string_lossy(),
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--disable-quic",
                            "--no-first-run",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            format!("--user-data-dir={}", user_data.display()),
                            "--window-size=412,900",
                        ]
                    }
                }
            }
        });
        let v = b
            .raw(reqwest::Method::POST, "/session", Some(caps))
            .await
            .context("creating the browser session")?;
        let id = v["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no sessionId in {v}"))?;
        b.session = Some(id.to_string());
        Ok(b)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(child) = self.driver.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!("chromedriver exited with {status}");
                }
            }
            let ok = match self
                .http
                .get(format!("{}/status", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .map(|v| v["value"]["ready"] == json!(true))
                    .unwrap_or(false),
                Err(_) => false,
            };
            if ok {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not become ready on port {}", self.port);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn raw(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("webdriver {path}"))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        unwrap_value(status, body)
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let sid = self
            .session
            .as_deref()
            .ok_or_else(|| anyhow!("the browser session is closed"))?;
        self.raw(method, &format!("/session/{sid}{path}"), body)
            .await
    }

    fn element(v: &Value) -> Result<Element> {
        v[ELEMENT_KEY]
            .as_str()
            .map(|id| Element { id: id.to_string() })
            .ok_or_else(|| anyhow!("not an element: {v}"))
    }

    /// Opens a URL and waits until the page has loaded.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .map(|_| ())
    }

    pub async fn current_url(&self) -> Result<String> {
        let v = self.cmd(reqwest::Method::GET, "/url", None).await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// The HTML of the current page.
    pub async fn source(&self) -> Result<String> {
        let v = self.cmd(reqwest::Method::GET, "/source", None).await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// The visible text of the whole page.
    pub async fn body_text(&self) -> Result<String> {
        let body = self.find("body").await?;
        self.text(&body).await
    }

    async fn find_using(&self, using: &str, value: &str) -> Result<Element> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": using, "value": value })),
            )
            .await
            .with_context(|| format!("finding {value}"))?;
        Self::element(&v)
    }

    async fn find_all_using(&self, using: &str, value: &str) -> Result<Vec<Element>> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/elements",
                Some(json!({ "using": using, "value": value })),
            )
            .await?;
        v.as_array()
            .ok_or_else(|| anyhow!("elements: {v}"))?
            .iter()
            .map(Self::element)
            .collect()
    }

    /// The first element matching a CSS selector.
    pub async fn find(&self, css: &str) -> Result<Element> {
        self.find_using("css selector", css).await
    }

    /// Every element matching a CSS selector.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        self.find_all_using("css selector", css).await
    }

    /// The first element matching an XPath expression.
    pub async fn find_xpath(&self, xpath: &str) -> Result<Element> {
        self.find_using("xpath", xpath).await
    }

    /// The first element matching `css` whose visible text contains `text`.
    pub async fn find_with_text(&self, css: &str, text: &str) -> Result<Element> {
        for e in self.find_all(css).await? {
            if self
                .text(&e)
                .await
                .map(|t| t.contains(text))
                .unwrap_or(false)
            {
                return Ok(e);
            }
        }
        bail!(
            "no {css} with text {text:?} on {}",
            self.current_url().await?
        )
    }

    /// The first link whose text contains `text`.
    pub async fn link(&self, text: &str) -> Result<Element> {
        self.find_with_text("a", text).await
    }

    /// Polls until an element matching `css` exists.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.find(css).await {
                Ok(e) => return Ok(e),
                Err(e) if Instant::now() > deadline => {
                    return Err(e.context(format!("waited {timeout:?} for {css}")))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Polls until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(t) = self.body_text().await {
                if t.contains(text) {
                    return Ok(());
                }
                if Instant::now() > deadline {
                    bail!(
                        "waited {timeout:?} for {text:?} on {}; the page reads:\n{t}",
                        self.current_url().await.unwrap_or_default()
                    );
                }
            } else if Instant::now() > deadline {
                bail!("waited {timeout:?} for {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Elements inside `parent` matching a CSS selector.
    pub async fn find_in(&self, parent: &Element, css: &str) -> Result<Vec<Element>> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                &format!("/element/{}/elements", parent.id),
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await?;
        v.as_array()
            .ok_or_else(|| anyhow!("elements: {v}"))?
            .iter()
            .map(Self::element)
            .collect()
    }

    pub async fn click(&self, e: &Element) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/click", e.id),
            Some(json!({})),
        )
        .await
        .map(|_| ())
    }

    pub async fn clear(&self, e: &Element) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/clear", e.id),
            Some(json!({})),
        )
        .await
        .map(|_| ())
    }

    /// Types into an input.
    pub async fn send_keys(&self, e: &Element, text: &str) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.id),
            Some(json!({ "text": text })),
        )
        .await
        .map(|_| ())
    }

    /// The element's visible text.
    pub async fn text(&self, e: &Element) -> Result<String> {
        let v = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{}/text", e.id),
                None,
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// An attribute, or `None` when the element has none of that name.
    pub async fn attribute(&self, e: &Element, name: &str) -> Result<Option<String>> {
        let v = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{}/attribute/{name}", e.id),
                None,
            )
            .await?;
        Ok(v.as_str().map(str::to_string))
    }

    /// Runs a synchronous script in the page (`arguments` from `args`) and returns its value.
    pub async fn execute(&self, script: &str, args: Value) -> Result<Value> {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Switches the page's network off or on (chromedriver's network emulation).
    pub async fn set_offline(&self, offline: bool) -> Result<()> {
        let conditions = json!({ "network_conditions": {
            "offline": offline, "latency": 0, "download_throughput": -1, "upload_throughput": -1 } });
        self.cmd(
            reqwest::Method::POST,
            "/chromium/network_conditions",
            Some(conditions),
        )
        .await
        .map(|_| ())
    }

    /// Resizes the browser window (CSS pixels), e.g. to a phone's 390×844.
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await
        .map(|_| ())
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        use base64::Engine;
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await?;
        let b64 = v.as_str().ok_or_else(|| anyhow!("screenshot: {v}"))?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
    }

    /// Ends the session (which quits Chromium) and stops chromedriver.
    pub async fn close(mut self) {
        if self.session.is_some() {
            let _ = self.cmd(reqwest::Method::DELETE, "", None).await;
            self.session = None;
        }
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        if let Some(mut child) = self.driver.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The chromedriver log, for failure messages.
    pub fn driver_log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("chromedriver.log")).unwrap_or_default()
    }
}

impl Drop for Browser {
    /// A test that panics still ends its session and driver. Drop cannot await, so the
    /// DELETE goes out as a plain blocking HTTP/1.1 request.
    fn drop(&mut self) {
        if let Some(sid) = self.session.take() {
            let port = self.port;
            let _ = std::thread::spawn(move || delete_session_blocking(port, &sid)).join();
        }
        self.stop_driver();
    }
}

fn delete_session_blocking(port: u16, sid: &str) -> std::io::Result<()> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "DELETE /session/{sid} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    Ok(())
}
