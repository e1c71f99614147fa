#!/usr/bin/env bash
# The one test command (README, CI): checks that PostgreSQL and RabbitMQ answer
# (starting them when they are down), then runs every test, then the fault
# suite alone (it restarts the broker and the database), then fmt and clippy.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${WF_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

ensure_postgres() {
  if pg_up; then return; fi
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it"
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "error: PostgreSQL is down and pg_ctlcluster is not installed; install PostgreSQL (apt-get install postgresql)" >&2
    exit 1
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_up && return; sleep 1; done
  echo "error: PostgreSQL did not start within 30 s (see /var/log/postgresql)" >&2
  exit 1
}

ensure_rabbitmq() {
  if rabbit_up; then return; fi
  echo "RabbitMQ is not answering on 127.0.0.1:5672; starting it"
  if ! command -v rabbitmq-server >/dev/null; then
    echo "error: RabbitMQ is down and rabbitmq-server is not installed; install it (apt-get install rabbitmq-server)" >&2
    exit 1
  fi
  rabbitmq-server -detached || true
  for _ in $(seq 1 60); do rabbit_up && { rabbitmqctl await_startup >/dev/null 2>&1 || true; return; }; sleep 1; done
  echo "error: RabbitMQ did not start within 60 s (see /var/log/rabbitmq)" >&2
  exit 1
}

echo "== layout (template folders, pure domain/, no #[path], no import cycles, test databases only from wf-testkit)"
python3 scripts/check-layout.py --self-test
python3 scripts/check-layout.py

echo "== contract (every request field read by its handler, every response field set; exceptions in scripts/contract-allowlist.txt)"
python3 scripts/check-contract.py --self-test
python3 scripts/check-contract.py

# Browser tests drive Debian's chromium through its chromedriver; nothing downloads a browser.
ensure_browser() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then return; fi
  echo "chromium or chromedriver is missing; installing Debian's chromium and chromium-driver"
  if ! command -v apt-get >/dev/null; then
    echo "error: browser tests need /usr/bin/chromium and /usr/bin/chromedriver (Debian packages chromium, chromium-driver)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
}

# axe-core for the accessibility checks, at the version the lock file pins.
ensure_axe() {
  local dir=services/wayfinder/tests/browser
  if [ -f "$dir/node_modules/axe-core/axe.min.js" ] &&
    grep -q '"version": "'"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packages"]["node_modules/axe-core"]["version"])' "$dir/package-lock.json")"'"' "$dir/node_modules/axe-core/package.json"; then
    return
  fi
  if ! command -v npm >/dev/null; then
    echo "error: the accessibility checks need npm (Node.js) to install the pinned axe-core" >&2
    exit 1
  fi
  (cd "$dir" && npm ci --no-audit --no-fund --silent)
}

# The OpenAPI schema check uses PyPI's openapi-spec-validator, at the version the project was checked with.
ensure_spec_validator() {
  if python3 -c 'import openapi_spec_validator' 2>/dev/null; then return; fi
  echo "openapi-spec-validator is missing; installing openapi-spec-validator==0.9.0 for python3"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "error: the OpenAPI schema check needs the Python module openapi_spec_validator (pip install openapi-spec-validator==0.9.0), and python3 has no pip to install it" >&2
    exit 1
  fi
  python3 -m pip install --quiet openapi-spec-validator==0.9.0 ||
    python3 -m pip install --quiet --break-system-packages openapi-spec-validator==0.9.0
}

ensure_postgres
ensure_rabbitmq
ensure_browser
ensure_axe
ensure_spec_validator
# Databases left behind by interrupted earlier runs: those nobody is connected to (a suite running
# beside this one keeps its own).
psql -q "$PG_URL" -Atc "SELECT d.datname FROM pg_database d WHERE d.datname LIKE 't\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)" 2>/dev/null |
  while read -r db; do psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done

export WF_TEST_DATABASE_URL="$PG_URL"
export WF_TEST_AMQP_URL="${WF_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"

results=$(mktemp)
trap 'rm -f "$results"' EXIT

echo "== build"
cargo build --workspace --all-targets --locked
echo "== tests"
cargo test --workspace --locked --no-fail-fast 2>&1 | tee -a "$results"
echo "== OpenAPI document (the gateway's /api/openapi.json, written by its test, validated as OpenAPI 3.1)"
mkdir -p target
WF_OPENAPI_OUT="$PWD/target/openapi.json" cargo test -p wf-gateway --lib --locked api::v1::tests::the_document_is_written_for_the_schema_check -- --exact
python3 -m openapi_spec_validator target/openapi.json
echo "== fault suite (restarts RabbitMQ and PostgreSQL; runs alone)"
cargo test --workspace --test fault --locked -- --test-threads=1 2>&1 | tee -a "$results"
echo "== fmt and clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
passed=$(awk '/^test result:/ { sum += $4 } END { print sum + 0 }' "$results")
failed=$(awk '/^test result:/ { sum += $6 } END { print sum + 0 }' "$results")
echo "all checks passed"
echo "tests: $passed passed, $failed failed"
