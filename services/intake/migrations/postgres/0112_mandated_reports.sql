-- Mandated reports for minors: the initial report (when, agency, reference) and the written follow-up.
CREATE TABLE mandated_report (
    id                  TEXT PRIMARY KEY,
    referral_id         TEXT NOT NULL REFERENCES referral (id),
    agency              INTEGER NOT NULL,
    reported_at         BIGINT NOT NULL,
    written_report_at   BIGINT,
    written_report_due  BIGINT NOT NULL,
    agency_reference    TEXT NOT NULL,
    reporter_id         TEXT NOT NULL,
    practice            INTEGER NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX mandated_report_referral ON mandated_report (referral_id);

-- Overdue notices sent, so each (referral, stage) is announced once.
CREATE TABLE mandated_report_overdue (
    referral_id TEXT NOT NULL REFERENCES referral (id),
    stage       TEXT NOT NULL,
    sent_at     BIGINT NOT NULL,
    PRIMARY KEY (referral_id, stage)
);
