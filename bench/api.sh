#!/usr/bin/env bash
# The REST API side by side: ../shared/bench/bench-api runs the same
# generated configuration under Icinga 2 and then under Picket, with the
# same wrk scenarios (all services with all attributes, a slim list, a 1%
# filter, one object, process-check-result), and prints both tables.
#
#   bench/api.sh                               # 100,000 services
#   SERVICES=10000 DURATION=15 bench/api.sh
#
# Build Picket first: cargo build --release -p picket
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
harness="$here/../../shared/bench/bench-api"
picket="$here/../target/release/picket"
services="${SERVICES:-100000}"
duration="${DURATION:-10}"
conc="${CONC:-1,16}"
heavy="${HEAVY_CONC:-1}"
out="${RESULTS:-$(mktemp -d)}"
# The harness's filter selects one host's services: with 100 hosts that
# is 1% of them.
per_host=$(( services >= 100 ? services / 100 : 1 ))
for daemon in icinga picket; do
  cmd="icinga2 daemon -c {config} {defines}"
  [ "$daemon" = picket ] && cmd="$picket daemon -c {config} {defines}"
  echo "## $daemon"
  ICINGA2_USER=root ICINGA2_GROUP=root "$harness" --services "$services" --per-host "$per_host" \
    --duration "$duration" --conc "$conc" --heavy-conc "$heavy" \
    --daemon-cmd "$cmd" --json "$out/$daemon.jsonl" | grep -v '^# cmd'
done
echo "JSON lines in $out"
