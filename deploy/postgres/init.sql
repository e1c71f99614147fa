-- Wayfinder: one database and one login role per service.
--
-- Run once by the official postgres image from /docker-entrypoint-initdb.d on
-- an EMPTY data directory (docker volume `postgres-data`). To re-run it, remove
-- the volume: `docker compose -f deploy/compose.yaml down -v` (destroys data).
--
-- Passwords are not in this file: psql's \getenv (psql 15+) reads them from the
-- postgres container's environment, which compose fills from deploy/.env.
-- A missing variable stops initialisation (ON_ERROR_STOP is set by the image).
--
-- Roles
--   wf_intake, wf_routing, wf_cases, wf_evaluation, wf_gateway
--                                    own their database; the service and its
--                                    one-shot `migrate-<svc>` job both use it.
--                                    wf_gateway is the web application's
--                                    (accounts, sessions, sign-in counters).
--   wf_audit_owner                   owns wf_audit and runs the audit migrations
--                                    (DDL); never used by the running service.
--   wf_audit                         the running audit service: INSERT and
--                                    SELECT only, so the hash-chained log is
--                                    append-only at the database level
--                                    (no UPDATE, DELETE or TRUNCATE).
--
-- No role can connect to another service's database: CONNECT is revoked from
-- PUBLIC on every database.

\set ON_ERROR_STOP on

\getenv wf_intake_password      WF_INTAKE_DB_PASSWORD
\getenv wf_routing_password     WF_ROUTING_DB_PASSWORD
\getenv wf_cases_password       WF_CASES_DB_PASSWORD
\getenv wf_evaluation_password  WF_EVALUATION_DB_PASSWORD
\getenv wf_audit_password       WF_AUDIT_DB_PASSWORD
\getenv wf_audit_owner_password WF_AUDIT_OWNER_DB_PASSWORD
\getenv wf_gateway_password     WF_GATEWAY_DB_PASSWORD

\if :{?wf_intake_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'WF_INTAKE_DB_PASSWORD is not set in the postgres container'; END $$;
\endif
\if :{?wf_routing_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'WF_ROUTING_DB_PASSWORD is not set in the postgres container'; END $$;
\endif
\if :{?wf_cases_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'WF_CASES_DB_PASSWORD is not set in the postgres container'; END $$;
\endif
\if :{?wf_evaluation_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'WF_EVALUATION_DB_PASSWORD is not set in the postgres container'; END $$;
\endif
\if :{?wf_audit_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'WF_AUDIT_DB_PASSWORD is not set in the postgres container'; END $$;
\endif
\if :{?wf_audit_owner_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'WF_AUDIT_OWNER_DB_PASSWORD is not set in the postgres container'; END $$;
\endif
\if :{?wf_gateway_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'WF_GATEWAY_DB_PASSWORD is not set in the postgres container'; END $$;
\endif

-- scram-sha-256 is the PostgreSQL 16 default; set it explicitly so a changed
-- server default cannot store md5 hashes.
SET password_encryption = 'scram-sha-256';

------------------------------------------------------------------------------
-- intake (the vault: the only database holding personal data, encrypted)
------------------------------------------------------------------------------
CREATE ROLE wf_intake LOGIN PASSWORD :'wf_intake_password';
CREATE DATABASE wf_intake OWNER wf_intake ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE wf_intake FROM PUBLIC;

------------------------------------------------------------------------------
-- routing
------------------------------------------------------------------------------
CREATE ROLE wf_routing LOGIN PASSWORD :'wf_routing_password';
CREATE DATABASE wf_routing OWNER wf_routing ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE wf_routing FROM PUBLIC;

------------------------------------------------------------------------------
-- cases
------------------------------------------------------------------------------
CREATE ROLE wf_cases LOGIN PASSWORD :'wf_cases_password';
CREATE DATABASE wf_cases OWNER wf_cases ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE wf_cases FROM PUBLIC;

------------------------------------------------------------------------------
-- evaluation (de-identified: coded events and random study ids only)
------------------------------------------------------------------------------
CREATE ROLE wf_evaluation LOGIN PASSWORD :'wf_evaluation_password';
CREATE DATABASE wf_evaluation OWNER wf_evaluation ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE wf_evaluation FROM PUBLIC;

------------------------------------------------------------------------------
-- gateway (the staff web application: accounts, sessions; no youth records)
------------------------------------------------------------------------------
CREATE ROLE wf_gateway LOGIN PASSWORD :'wf_gateway_password';
CREATE DATABASE wf_gateway OWNER wf_gateway ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE wf_gateway FROM PUBLIC;

------------------------------------------------------------------------------
-- audit
------------------------------------------------------------------------------
CREATE ROLE wf_audit_owner LOGIN PASSWORD :'wf_audit_owner_password';
CREATE ROLE wf_audit LOGIN PASSWORD :'wf_audit_password';
CREATE DATABASE wf_audit OWNER wf_audit_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE wf_audit FROM PUBLIC;
GRANT CONNECT ON DATABASE wf_audit TO wf_audit;

\connect wf_audit

-- PostgreSQL 15+ already denies CREATE on schema public to PUBLIC; say it anyway
-- so the intent survives a restore into an older cluster.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO wf_audit;

-- The audit migrations (services/audit/migrations/postgres) GRANT SELECT, INSERT
-- on each table they create to wf_audit (and USAGE on any sequence an INSERT
-- needs) — that is the authoritative grant, and it also works on a database this
-- script did not create. These default privileges are a safety net for the same
-- rule: whatever wf_audit_owner creates in schema public is readable and
-- appendable by wf_audit, never updatable or deletable.
ALTER DEFAULT PRIVILEGES FOR ROLE wf_audit_owner IN SCHEMA public
    GRANT SELECT, INSERT ON TABLES TO wf_audit;
ALTER DEFAULT PRIVILEGES FOR ROLE wf_audit_owner IN SCHEMA public
    GRANT USAGE ON SEQUENCES TO wf_audit;
