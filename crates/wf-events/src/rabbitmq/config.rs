//! [`RabbitConfig`]: where the broker is and how the topology is named; URL redaction and the broker version probe.

use std::time::Duration;

use super::message::as_string;
use crate::bus::Backoff;

/// Where the broker is and how the topology is named.
#[derive(Clone)]
pub struct RabbitConfig {
    /// `amqp://user:password@host:port/vhost`; holds credentials, never logged as is.
    pub url: String,
    /// The topic exchange events are published to.
    pub exchange: String,
    /// Prefix of queue names (`{prefix}.{service}`, `{prefix}.{service}.dlq`) and of the DLX (`{prefix}.dlx`).
    pub queue_prefix: String,
    /// How long a publish waits for the broker's confirm.
    pub confirm_timeout: Duration,
    /// Delay between reconnection attempts (by consecutive failures).
    pub reconnect_backoff: Backoff,
}

impl std::fmt::Debug for RabbitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitConfig")
            .field("url", &redact_url(&self.url))
            .field("exchange", &self.exchange)
            .field("queue_prefix", &self.queue_prefix)
            .field("confirm_timeout", &self.confirm_timeout)
            .field("reconnect_backoff", &self.reconnect_backoff)
            .finish()
    }
}

impl RabbitConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            exchange: "wayfinder.events".to_owned(),
            queue_prefix: "wayfinder".to_owned(),
            confirm_timeout: Duration::from_secs(10),
            reconnect_backoff: Backoff { initial: Duration::from_millis(500), max: Duration::from_secs(30) },
        }
    }

    pub fn with_prefix(mut self, exchange: impl Into<String>, queue_prefix: impl Into<String>) -> Self {
        self.exchange = exchange.into();
        self.queue_prefix = queue_prefix.into();
        self
    }

    /// The URL with any password replaced, safe for logs.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }

    /// The service's main queue, e.g. `wayfinder.routing`.
    pub fn queue_name(&self, service: &str) -> String {
        format!("{}.{service}", self.queue_prefix)
    }

    /// The service's dead-letter queue (and its routing key on the DLX), e.g. `wayfinder.routing.dlq`.
    pub fn dead_letter_queue_name(&self, service: &str) -> String {
        format!("{}.{service}.dlq", self.queue_prefix)
    }

    /// The dead-letter exchange, e.g. `wayfinder.dlx`.
    pub fn dead_letter_exchange(&self) -> String {
        format!("{}.dlx", self.queue_prefix)
    }
}

/// The broker's major version from its `connection.start` (lapin does not expose the server
/// properties). Plain `amqp://` only; `None` when it cannot be told.
pub(super) async fn broker_major_version(url: &str) -> Option<u32> {
    use lapin::protocol::{AMQPClass, connection::AMQPMethod};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let uri: lapin::uri::AMQPUri = url.parse().ok()?;
    if uri.scheme != lapin::uri::AMQPScheme::AMQP {
        return None;
    }
    let probe = async {
        let mut stream =
            tokio::net::TcpStream::connect((uri.authority.host.as_str(), uri.authority.port)).await.ok()?;
        stream.write_all(b"AMQP\x00\x00\x09\x01").await.ok()?;
        let mut header = [0u8; 7];
        stream.read_exact(&mut header).await.ok()?;
        let size = usize::try_from(u32::from_be_bytes([header[3], header[4], header[5], header[6]])).ok()?;
        if header[0] != 1 || size > 1 << 20 {
            return None;
        }
        let mut payload = vec![0u8; size];
        stream.read_exact(&mut payload).await.ok()?;
        let (_, class) = lapin::protocol::parse_class(payload.as_slice()).ok()?;
        let AMQPClass::Connection(AMQPMethod::Start(start)) = class else {
            return None;
        };
        let version = start.server_properties.inner().get("version").and_then(as_string)?;
        version.split('.').next()?.parse().ok()
    };
    let version = tokio::time::timeout(Duration::from_secs(5), probe).await.ok().flatten();
    tracing::debug!(?version, "broker major version");
    version
}

fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end + 3], &rest[at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("amqp://guest:secret@127.0.0.1:5672/%2f"), "amqp://guest:***@127.0.0.1:5672/%2f");
        assert_eq!(redact_url("amqp://127.0.0.1:5672/%2f"), "amqp://127.0.0.1:5672/%2f");
        let cfg = RabbitConfig::new("amqps://u:p%40ss@h/v");
        assert!(!format!("{cfg:?}").contains("p%40ss"));
    }

    #[test]
    fn names_follow_the_prefix() {
        let cfg = RabbitConfig::new("amqp://h").with_prefix("x.events", "x");
        assert_eq!(cfg.queue_name("routing"), "x.routing");
        assert_eq!(cfg.dead_letter_queue_name("routing"), "x.routing.dlq");
        assert_eq!(cfg.dead_letter_exchange(), "x.dlx");
    }
}
