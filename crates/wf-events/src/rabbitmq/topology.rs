//! Declaring the exchanges, queues and bindings on the broker, and deleting them again.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};

use super::message::{long_str, short};
use super::{RabbitBus, RabbitConfig};
use crate::bus::{BusError, Subscription};

impl RabbitBus {
    pub(super) async fn declare_exchanges(&self, channel: &Channel) -> Result<(), BusError> {
        let cfg = &self.inner.cfg;
        for name in [cfg.exchange.clone(), cfg.dead_letter_exchange()] {
            channel
                .exchange_declare(
                    short(&name).map_err(BusError::Topology)?,
                    ExchangeKind::Topic,
                    ExchangeDeclareOptions { durable: true, ..Default::default() },
                    FieldTable::default(),
                )
                .await
                .map_err(|err| BusError::Topology(format!("exchange {name}: {err}")))?;
        }
        Ok(())
    }

    /// Declares the subscription's queues and bindings on `channel` (must match deploy/rabbitmq/definitions.json).
    pub(super) async fn declare_on(&self, channel: &Channel, subscription: &Subscription) -> Result<(), BusError> {
        let cfg = &self.inner.cfg;
        self.declare_exchanges(channel).await?;
        let queue = cfg.queue_name(&subscription.service);
        let dlq = cfg.dead_letter_queue_name(&subscription.service);
        let dlx = cfg.dead_letter_exchange();
        let topology = |what: &str, err: lapin::Error| BusError::Topology(format!("{what}: {err}"));

        let mut args = FieldTable::default();
        args.insert("x-queue-type".into(), long_str("quorum"));
        args.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(i64::from(subscription.delivery_limit)));
        args.insert("x-dead-letter-exchange".into(), long_str(&dlx));
        args.insert("x-dead-letter-routing-key".into(), long_str(&dlq));
        args.insert("x-dead-letter-strategy".into(), long_str("at-least-once"));
        args.insert("x-overflow".into(), long_str("reject-publish"));
        args.insert("x-max-length".into(), AMQPValue::LongLongInt(1_000_000));
        let durable = QueueDeclareOptions { durable: true, ..Default::default() };
        channel
            .queue_declare(short(&queue).map_err(BusError::Topology)?, durable, args)
            .await
            .map_err(|err| topology(&format!("queue {queue}"), err))?;

        let mut dlq_args = FieldTable::default();
        dlq_args.insert("x-queue-type".into(), long_str("quorum"));
        if let Some(limit) = self.inner.dead_letter_queue_limit {
            dlq_args.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(limit));
        }
        channel
            .queue_declare(short(&dlq).map_err(BusError::Topology)?, durable, dlq_args)
            .await
            .map_err(|err| topology(&format!("queue {dlq}"), err))?;
        channel
            .queue_bind(
                short(&dlq).map_err(BusError::Topology)?,
                short(&dlx).map_err(BusError::Topology)?,
                short(&dlq).map_err(BusError::Topology)?,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|err| topology(&format!("binding {dlq}"), err))?;
        for pattern in &subscription.bindings {
            channel
                .queue_bind(
                    short(&queue).map_err(BusError::Topology)?,
                    short(&cfg.exchange).map_err(BusError::Topology)?,
                    short(pattern).map_err(BusError::Topology)?,
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|err| topology(&format!("binding {queue} to {pattern}"), err))?;
        }
        Ok(())
    }
}

/// Deletes the queues (main and dead-letter) of `services` and both exchanges of
/// `config`: for tearing down test or trial deployments. Messages in them are lost.
pub async fn delete_topology(config: &RabbitConfig, services: &[&str]) -> Result<(), BusError> {
    let connection = Connection::connect(&config.url, ConnectionProperties::default())
        .await
        .map_err(|err| BusError::Connection(err.to_string()))?;
    let channel = connection.create_channel().await.map_err(|err| BusError::Connection(err.to_string()))?;
    for service in services {
        for queue in [config.queue_name(service), config.dead_letter_queue_name(service)] {
            channel
                .queue_delete(queue.as_str().into(), lapin::options::QueueDeleteOptions::default())
                .await
                .map_err(|err| BusError::Topology(format!("deleting queue {queue}: {err}")))?;
        }
    }
    for exchange in [config.exchange.clone(), config.dead_letter_exchange()] {
        channel
            .exchange_delete(exchange.as_str().into(), lapin::options::ExchangeDeleteOptions::default())
            .await
            .map_err(|err| BusError::Topology(format!("deleting exchange {exchange}: {err}")))?;
    }
    let _ = connection.close(200, "OK".into()).await;
    Ok(())
}
