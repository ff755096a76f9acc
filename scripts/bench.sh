#!/usr/bin/env bash
# Load benchmark (NF-01..NF-05). Builds in release mode, generates realistic
# data (the demo data plus 200 units with 5 000 officials, 50 000 cases and
# 200 000 audit records), starts the server on it and drives it with the
# project's closed-loop load generator, scenario by scenario:
#
#   scripts/bench.sh [--backend sqlite|postgres] [--users N] [--seconds S]
#                    [--out FILE] [--scenario LIST|drain|warnings]
#
# LIST is comma-separated: baseline, login, inbox, case_detail, approve,
# send_code, forms, forms_aggregate (default: all). `forms` distributes a
# 40-field form with a 50-row table to 1 000 streets and has the users save
# and submit the returns; `forms_aggregate` then reads the sender's progress
# and aggregate over them. `--scenario drain` runs the notification drain
# benchmark instead (20 000 messages across the SMS and push stand-ins);
# `--scenario warnings` the intake with 20 warning rules against 1 000 000
# historical requests, beside the intake with the rules disabled.
# PostgreSQL: a fresh database is created from BENCH_POSTGRES_URL (default
# the CI role, postgres://gov_ci:gov_ci@127.0.0.1:5432/gov_ci) and dropped
# afterwards. BENCH_BIN_DIR=DIR uses the gov-server and loadgen binaries in
# DIR instead of building (to compare two builds in one session).
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."

backend=sqlite users=300 seconds=30 out="" scenario=""
units=200 cases=50000 audit=200000 form_units=1000
port=${BENCH_PORT:-18080}
admin_url=${BENCH_POSTGRES_URL:-postgres://gov_ci:gov_ci@127.0.0.1:5432/gov_ci}
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --units) units=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --audit-records) audit=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$backend" in sqlite|postgres) ;; *) echo "bench.sh: --backend sqlite|postgres" >&2; exit 2 ;; esac

if [ "$scenario" = drain ]; then
  if [ "$backend" = postgres ]; then export TEST_POSTGRES_URL=$admin_url; fi
  exec cargo bench --locked --bench notify_drain
fi
if [ "$scenario" = warnings ]; then
  if [ "$backend" = postgres ]; then export TEST_POSTGRES_URL=$admin_url; fi
  exec cargo bench --locked --bench warning_intake
fi

bin=${BENCH_BIN_DIR:-target/release}
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
if [ -z "${BENCH_BIN_DIR:-}" ]; then
  echo "==> building (release)" >&2
  cargo build --release --locked -p gov-server -p loadgen >&2
fi
ulimit -n 65536 2>/dev/null || true

work=$(mktemp -d)
db_name=""
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$db_name" ]; then psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$backend" = postgres ]; then
  db_name="gov_bench_$$"
  psql -q -v ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE $db_name" >/dev/null
  export DATABASE_URL="${admin_url%/*}/$db_name"
else
  export DATABASE_URL="sqlite://$work/gov.db"
fi
export GOV_LOG__LEVEL=warn GOV_ORG_SYNC__INTERVAL_SECS=0

echo "==> generating data ($backend)" >&2
"$bin/gov-server" demo-data --units "$units" --cases "$cases" \
  --audit-records "$audit" --form-units "$form_units" --manifest "$work/manifest.json" >&2

# The annual report's section 3 for every agency over the generated cases,
# in one pass (docs/annual-report.md): its time goes in the README.
echo "==> annual report: every agency's section 3 of this year" >&2
"$bin/gov-server" annual-report compute --year "$(TZ=Asia/Shanghai date +%Y)" >&2

# Every virtual user comes from this one address, so the per-address and
# per-number-prefix code limits (meant for the public internet) are lifted;
# the per-phone limits stay. The baseline route is on.
echo "==> starting the server on 127.0.0.1:$port" >&2
GOV_HTTP__BENCH_ROUTE=true \
GOV_DISCLOSURE__DEMO_HISTORY=false \
GOV_VERIFICATION__IP_PER_HOUR=1000000000 \
GOV_VERIFICATION__PREFIX_MAX=1000000000 \
  "$bin/gov-server" serve --demo --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done

args=(--base "http://127.0.0.1:$port" --manifest "$work/manifest.json" --users "$users"
  --seconds "$seconds" --server-pid "$server" --backend "$backend")
case "$out" in "" | /*) ;; *) out="$caller/$out" ;; esac
[ -n "$out" ] && args+=(--out "$out")
[ -n "$scenario" ] && args+=(--scenarios "$scenario")
status=0
"$bin/loadgen" "${args[@]}" || status=$?
if grep -q '"level":"ERROR"' "$work/server.log"; then
  echo "server errors:" >&2
  grep '"level":"ERROR"' "$work/server.log" | head -5 >&2
fi
exit "$status"
