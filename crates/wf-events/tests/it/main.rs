//! Integration tests of the RabbitMQ bus against a real broker (and PostgreSQL for the
//! crash test). Each test uses its own exchange and queue prefix and deletes them at the end.
//!
//! Broker: `WF_TEST_AMQP_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`);
//! database: `WF_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`).

mod common;
mod crash;
mod dead_letters;
mod in_process;
mod publish_consume;
mod relay;
