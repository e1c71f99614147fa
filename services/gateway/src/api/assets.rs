//! The static files, served from the binary under content-hashed names (`/static/htmx.1a2b3c4d.js`)
//! with a one-year immutable cache header: a changed file gets a new name, so no stale copy is ever
//! used, and nothing is fetched from elsewhere.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    /// The name in URLs (`htmx.1a2b3c4d.min.js`).
    name: String,
    bytes: &'static [u8],
    content_type: &'static str,
}

/// Where the pages load each file from.
#[derive(Debug)]
pub struct AssetUrls {
    pub htmx: String,
    pub css: String,
    pub js: String,
}

struct Table {
    assets: Vec<Asset>,
    urls: AssetUrls,
}

fn asset(stem: &str, ext: &str, bytes: &'static [u8], content_type: &'static str) -> Asset {
    let hash = hex::encode(&Sha256::digest(bytes)[..4]);
    Asset { name: format!("{stem}.{hash}.{ext}"), bytes, content_type }
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let assets = vec![
        asset("htmx-2.0.11", "min.js", include_bytes!("../../static/htmx.min.js"), "text/javascript; charset=utf-8"),
        asset("gateway", "css", include_bytes!("../../static/gateway.css"), "text/css; charset=utf-8"),
        asset("gateway", "js", include_bytes!("../../static/gateway.js"), "text/javascript; charset=utf-8"),
    ];
    let url = |i: usize| format!("/static/{}", assets[i].name);
    let urls = AssetUrls { htmx: url(0), css: url(1), js: url(2) };
    Table { assets, urls }
});

/// The URLs of the static files.
pub fn urls() -> &'static AssetUrls {
    &TABLE.urls
}

/// `GET /static/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = TABLE.assets.iter().find(|asset| asset.name == name) else {
        let mut response = (StatusCode::NOT_FOUND, "not found").into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return response;
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        asset.bytes,
    )
        .into_response()
}
