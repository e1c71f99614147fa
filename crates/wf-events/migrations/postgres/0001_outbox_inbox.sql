-- Transactional outbox: written in the same transaction as the change it announces.
CREATE TABLE IF NOT EXISTS event_outbox (
    id          BIGSERIAL PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    event_type  TEXT NOT NULL,
    envelope    BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);
-- The relay selects by status, never by id cursor (late commits must not be skipped).
CREATE INDEX IF NOT EXISTS event_outbox_unsent ON event_outbox (id) WHERE sent_at IS NULL;

-- Inbox: the consumer records each event id in the same transaction as its effect.
CREATE TABLE IF NOT EXISTS event_inbox (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- Dead letters of the in-process bus (RabbitMQ keeps its own in dead-letter queues).
CREATE TABLE IF NOT EXISTS event_dead_letter (
    id                BIGSERIAL PRIMARY KEY,
    service           TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    envelope          BYTEA NOT NULL,
    reason            TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    dead_lettered_at  BIGINT NOT NULL,
    UNIQUE (service, event_id)
);
