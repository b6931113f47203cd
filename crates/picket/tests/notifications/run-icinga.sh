#!/bin/sh
# Runs scenarios.py against a fresh real Icinga 2 (run as root):
#   run-icinga.sh OUT_JSON [PICKET_BINARY]
# Certificates come from `picket api setup` (default: target/release/picket).
# The daemon gets its own temporary directory and is stopped with SIGTERM.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
picket=${2:-$here/../../../../target/release/picket}
work=$(mktemp -d /tmp/picket-notifications.XXXXXX)
mkdir -p "$work/etc" "$work/setup" "$work/icinga/data/certs"
for d in log cache spool run; do mkdir -p "$work/icinga/$d"; done
cp "$here/icinga2.conf" "$work/etc/icinga2.conf"
"$picket" api setup --cn picket-lab -c "$work/etc/icinga2.conf" -D "DataDir=$work/setup" >/dev/null
cp "$work/setup/certs/ca.crt" "$work/setup/certs/picket-lab.crt" "$work/setup/certs/picket-lab.key" \
  "$work/icinga/data/certs/"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: > "$work/notify.log"
ICINGA2_USER=root ICINGA2_GROUP=root icinga2 daemon -c "$work/etc/icinga2.conf" \
  -D "DataDir=$work/icinga/data" -D "LogDir=$work/icinga/log" -D "CacheDir=$work/icinga/cache" \
  -D "SpoolDir=$work/icinga/spool" -D "InitRunDir=$work/icinga/run" \
  -D "ApiPort=$port" -D "NotifyLog=$work/notify.log" >"$work/icinga.out" 2>&1 &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT INT TERM
status=0
python3 "$here/scenarios.py" "https://127.0.0.1:$port" "$work/notify.log" "$out" || status=$?
echo "daemon output and notify.log kept in $work" >&2
exit $status
