//! The event backbone: one [`Envelope`] for every event, an [`EventBus`] with a
//! RabbitMQ implementation and an in-process one for the embedded mode, the
//! transactional [`outbox`] with its [`Relay`], and the consumer [`inbox`].
//!
//! A producer writes its change and its event in one transaction
//! ([`outbox::enqueue`]); the relay publishes with confirms and marks the row
//! sent. A consumer records the event id ([`inbox::record`]) in the same
//! transaction as its effect, commits, and only then is the message acked.

mod bus;
mod envelope;
pub mod inbox;
pub mod memory;
pub mod outbox;
mod payloads;
pub mod rabbitmq;
pub use payloads::ALL_EVENT_TYPES;
mod relay;
pub mod topology;

pub use bus::{
    Backoff, BusError, DeadLetter, EventBus, EventHandler, HandleError, PublishError, Subscription, topic_matches,
};
pub use envelope::{Envelope, EnvelopeError, EventPayload};
pub use memory::InProcessBus;
pub use rabbitmq::{RabbitBus, RabbitConfig};
pub use relay::{Relay, RelayHandle, RelayOptions};

/// Migrations of the outbox, inbox and dead-letter tables, to merge into each
/// service's [`wf_db::MigrationSet`] (versions below 100).
pub fn migrations() -> (&'static sqlx::migrate::Migrator, &'static sqlx::migrate::Migrator) {
    static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    (&POSTGRES, &SQLITE)
}
