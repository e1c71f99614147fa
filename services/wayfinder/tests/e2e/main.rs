//! End-to-end: a referral travels intake → routing → cases → audit, twice:
//! embedded (one process, SQLite, in-process bus) and distributed (each service
//! its own process on PostgreSQL and RabbitMQ). Also: one trace id spans the
//! whole flow, and nothing personal ever crosses the broker. Also: the authorization matrix, and a
//! youth's disclosure report over the whole system.

mod support;

mod authorization;
mod disclosure;
mod distributed;
mod embedded;
