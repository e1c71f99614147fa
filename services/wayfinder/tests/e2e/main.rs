//! End-to-end: a referral travels intake → routing → cases → audit, twice:
//! embedded (one process, SQLite, in-process bus) and distributed (each service
//! its own process on PostgreSQL and RabbitMQ). Also: one trace id spans the
//! whole flow, and nothing personal ever crosses the broker. Also: the authorization matrix, and a
//! youth's disclosure report over the whole system. Also: the README's first-day path with the
//! real binary, the errors about the system's state, server reflection in both versions, and the
//! `accounts` commands.

mod support;

mod accounts;
mod authorization;
mod disclosure;
mod distributed;
mod embedded;
mod first_day;
mod pilot;
mod reflection;
mod state_errors;
