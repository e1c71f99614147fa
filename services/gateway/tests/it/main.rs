//! The gateway through its HTTP routes, on SQLite and on PostgreSQL: sign-in and its throttle,
//! session rotation and limits, the Origin and CSRF rules, the acknowledgment gate, TOTP, the
//! security headers, and calls to a real service with a minted token.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use tower::ServiceExt as _;
use wf_auth::Role;
use wf_gateway::{AccountInfo, Gateway, NewAccount};
use wf_testkit::{Engine, TestDatabase, both_engines};
use wf_types::TestClock;
use zeroize::Zeroizing;

mod account;
mod api_v1;
mod cases;
mod headers;
mod home;
mod limits;
mod oidc;
mod partner;
mod referrals;
mod requests;
mod serve;
mod sign_in;
mod totp;
mod upstream;

/// The origin the test gateway is configured with.
const ORIGIN: &str = "https://wayfinder.example.org";
/// A password that meets the policy (15+ characters, not common).
const PASSWORD: &str = "violet kettle on a windy pier";
const CLIENT: &str = "192.0.2.10:40000";

struct Harness {
    gateway: Arc<Gateway>,
    router: axum::Router,
    clock: TestClock,
    _database: TestDatabase,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    async fn start(engine: Engine) -> Self {
        let dir = tempfile::tempdir().expect("data folder");
        let mut harness = Self::start_in(engine, dir.path(), None).await;
        harness._dir = Some(dir);
        harness
    }

    /// A gateway in front of `server` (its data folder, so its development keys), reading `clock`.
    async fn in_front_of(engine: Engine, server: &wf_testkit::TestServer, clock: &TestClock) -> Self {
        let database = TestDatabase::new(engine).await;
        let db = database.migrated(&wf_gateway::migrations()).await;
        let figment = wf_config::Config::defaults_only(&server.config.data_dir)
            .merge(("gateway.public_origin", ORIGIN))
            .merge(("gateway.upstream_url", server.url()))
            .merge(("auto_migrate", false));
        let config = Arc::new(wf_config::Config::from_figment(figment).expect("test configuration"));
        let bus = Arc::new(wf_events::InProcessBus::new(db.clone()));
        let ctx = wf_server::ServiceContext::new(db, bus, config).with_clock(clock.shared());
        let gateway = wf_gateway::build(ctx).await.expect("gateway builds");
        let router = gateway.router();
        Harness { gateway, router, clock: clock.clone(), _database: database, _dir: None }
    }

    /// A gateway whose data folder (and so development keys) is `data_dir`.
    async fn start_in(engine: Engine, data_dir: &std::path::Path, upstream: Option<String>) -> Self {
        Self::start_configured(engine, data_dir, upstream, Vec::new()).await
    }

    /// A gateway whose data folder is `data_dir`, with further settings `extra` (key, value).
    async fn start_configured(
        engine: Engine,
        data_dir: &std::path::Path,
        upstream: Option<String>,
        extra: Vec<(&'static str, serde_json::Value)>,
    ) -> Self {
        let database = TestDatabase::new(engine).await;
        let db = database.migrated(&wf_gateway::migrations()).await;
        let mut figment = wf_config::Config::defaults_only(data_dir)
            .merge(("gateway.public_origin", ORIGIN))
            .merge(("auto_migrate", false));
        if let Some(url) = upstream {
            figment = figment.merge(("gateway.upstream_url", url));
        }
        for (key, value) in extra {
            figment = figment.merge((key, value));
        }
        let config = Arc::new(wf_config::Config::from_figment(figment).expect("test configuration"));
        let clock = TestClock::starting_now();
        let bus = Arc::new(wf_events::InProcessBus::new(db.clone()));
        let ctx = wf_server::ServiceContext::new(db, bus, config).with_clock(clock.shared());
        let gateway = wf_gateway::build(ctx).await.expect("gateway builds");
        let router = gateway.router();
        Self { gateway, router, clock, _database: database, _dir: None }
    }

    async fn add(&self, username: &str, role: Role) -> AccountInfo {
        let partner_id = (role == Role::Partner).then(|| "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".parse().unwrap());
        self.gateway
            .accounts()
            .add(NewAccount {
                username: username.to_owned(),
                role,
                partner_id,
                user_id: None,
                password: Zeroizing::new(PASSWORD.to_owned()),
            })
            .await
            .expect("account added")
    }

    /// A browser with no cookie yet, coming from [`CLIENT`].
    fn browser(&self) -> Browser<'_> {
        Browser { harness: self, cookie: None, client: CLIENT.parse().unwrap() }
    }

    /// A browser signed in as `username` (with [`PASSWORD`]) that has accepted the acknowledgment.
    async fn signed_in(&self, username: &str) -> Browser<'_> {
        let mut browser = self.browser();
        browser.sign_in(username, PASSWORD, None).await.expect_status(StatusCode::SEE_OTHER);
        let page = browser.get("/acknowledge").await;
        if page.status == StatusCode::OK {
            browser.post("/acknowledge", &[("csrf_token", &page.csrf())]).await.expect_status(StatusCode::SEE_OTHER);
        }
        browser
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        Answer { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }
}

/// One browser: its session cookie (kept as a browser keeps it) and its address.
struct Browser<'a> {
    harness: &'a Harness,
    cookie: Option<String>,
    client: SocketAddr,
}

impl Browser<'_> {
    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut builder = Request::builder().method(method).uri(path).extension(ConnectInfo(self.client));
        if let Some(cookie) = &self.cookie {
            builder = builder.header(header::COOKIE, format!("__Host-wf-session={cookie}"));
        }
        builder
    }

    /// Sends `request`, keeping any cookie the answer sets (or clears).
    async fn send(&mut self, request: Request<Body>) -> Answer {
        let answer = self.harness.send(request).await;
        match answer.set_cookie() {
            Some(SetCookie::Value(value)) => self.cookie = Some(value),
            Some(SetCookie::Cleared) => self.cookie = None,
            None => {}
        }
        answer
    }

    async fn get(&mut self, path: &str) -> Answer {
        let request = self.request("GET", path).body(Body::empty()).unwrap();
        self.send(request).await
    }

    /// A form post as a browser sends it from the gateway's own page (`Origin` set).
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let request = self.form(path, fields, Some(ORIGIN), None);
        self.send(request).await
    }

    /// A form post with the given `Origin` and `Sec-Fetch-Site` (either may be absent).
    fn form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
        fetch_site: Option<&str>,
    ) -> Request<Body> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut builder = self.request("POST", path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            builder = builder.header(header::ORIGIN, origin);
        }
        if let Some(site) = fetch_site {
            builder = builder.header("sec-fetch-site", site);
        }
        builder.body(Body::from(body)).unwrap()
    }

    /// The sign-in form, filled and sent.
    async fn sign_in(&mut self, username: &str, password: &str, code: Option<&str>) -> Answer {
        let csrf = self.get("/sign-in").await.csrf();
        self.post(
            "/sign-in",
            &[("csrf_token", &csrf), ("username", username), ("password", password), ("code", code.unwrap_or(""))],
        )
        .await
    }
}

enum SetCookie {
    Value(String),
    Cleared,
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    #[track_caller]
    fn expect_status(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "answer: {:?}\n{}", self.headers, self.body);
        self
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The raw `Set-Cookie` of the session cookie.
    fn session_set_cookie(&self) -> Option<&str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("__Host-wf-session="))
    }

    fn set_cookie(&self) -> Option<SetCookie> {
        let raw = self.session_set_cookie()?;
        let value = raw.trim_start_matches("__Host-wf-session=").split(';').next().unwrap_or_default();
        Some(if value.is_empty() || raw.contains("Max-Age=0") {
            SetCookie::Cleared
        } else {
            SetCookie::Value(value.to_owned())
        })
    }

    /// The CSRF token of the page's first form.
    #[track_caller]
    fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker).unwrap_or_else(|| panic!("no csrf field in\n{}", self.body)) + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}
