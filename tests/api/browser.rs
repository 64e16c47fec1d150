//! A real browser for the tests: headless Chromium driven over WebDriver (Debian's `chromium`
//! and `chromium-driver`; `.ci/run` installs them) through fantoccini. Where there is none,
//! `Browser::open` says so and the test passes without it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

/// Where chromedriver is: `$CHROMEDRIVER`, or Debian's.
fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    path.exists().then_some(path)
}

/// A headless Chromium of its own (its driver ends with it).
pub struct Browser {
    pub client: Client,
    driver: Child,
    base: String,
}

const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

impl Browser {
    /// A browser whose reader speaks `lang`, or `None` (said why) where there is none.
    pub async fn open(app: &TestApp, lang: &str) -> Option<Browser> {
        let Some(driver_path) = chromedriver() else {
            eprintln!(
                "skipped: no chromedriver on this machine (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let caps: serde_json::Map<String, Value> = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic", "--hide-scrollbars",
                    format!("--lang={lang}"),
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
                "prefs": { "intl.accept_languages": lang },
            }
        }))
        .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        driver,
                        base: app.address.clone(),
                    });
                }
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start a browser: {last_error:?}");
    }

    /// Opens a page by its whole address (a `file://` one, say).
    pub async fn open_url(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Waits until `css` matches nothing.
    pub async fn wait_gone(&self, css: &str) {
        for _ in 0..150 {
            if self.count(css).await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` stayed on the page");
    }

    pub async fn text(&self, css: &str) -> String {
        for _ in 0..50 {
            if let Ok(text) = self.wait_for(css).await.text().await {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not read `{css}`");
    }

    /// The text of `css` once it holds `needle` (or what it holds after 15 s).
    pub async fn text_with(&self, css: &str, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..150 {
            // The page may replace the element meanwhile: read it afresh each time.
            if let Ok(found) = self.client.find(Locator::Css(css)).await {
                text = found.text().await.unwrap_or_default();
            }
            if text.contains(needle) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        text
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks `css`, finding it again when the page replaced it meanwhile (a list that was
    /// drawn again, say).
    pub async fn click(&self, css: &str) {
        let mut last = None;
        for _ in 0..50 {
            match self.wait_for(css).await.click().await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not click `{css}`: {last:?}");
    }

    pub async fn sign_in(&self, login: &str) {
        self.goto("/console/").await;
        self.type_into("input[name=login]", login).await;
        self.type_into("input[name=password]", PASSWORD).await;
        self.click("#signin button[type=submit]").await;
    }

    /// Screenshots of the page at desktop and phone width, as `docs/{name}-*.png` (e.g.
    /// `console/reports`).
    pub async fn screenshots(&self, name: &str) {
        self.screenshots_at(name, &[("desktop", DESKTOP), ("phone", PHONE)])
            .await;
    }

    /// Screenshots at these `(label, (width, height))` sizes, as `docs/{name}-{label}.png`.
    pub async fn screenshots_at(&self, name: &str, sizes: &[(&str, (u32, u32))]) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(name);
        let (dir, name) = (
            path.parent().unwrap().to_path_buf(),
            path.file_name().unwrap().to_string_lossy().to_string(),
        );
        std::fs::create_dir_all(&dir).unwrap();
        for &(width, (w, h)) in sizes {
            self.client.set_window_size(w, h).await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            let png = self.client.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
            std::fs::write(dir.join(format!("{name}-{width}.png")), png).unwrap();
        }
        self.client
            .set_window_size(DESKTOP.0, DESKTOP.1)
            .await
            .unwrap();
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
