-- Transactional outbox: written in the same transaction as the change it announces.
CREATE TABLE IF NOT EXISTS event_outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL UNIQUE,
    event_type  TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX IF NOT EXISTS event_outbox_unsent ON event_outbox (id) WHERE sent_at IS NULL;

-- Inbox: the consumer records each event id in the same transaction as its effect.
CREATE TABLE IF NOT EXISTS event_inbox (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- Dead letters of the in-process bus (RabbitMQ keeps its own in dead-letter queues).
CREATE TABLE IF NOT EXISTS event_dead_letter (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    service           TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    envelope          BLOB NOT NULL,
    reason            TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    dead_lettered_at  INTEGER NOT NULL,
    UNIQUE (service, event_id)
);
