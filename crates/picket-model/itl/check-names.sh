#!/usr/bin/env bash
# Compares Picket's template library with Icinga 2's own, using the real
# icinga2 binary: both must validate the same test configuration cleanly and
# instantiate the same set of CheckCommand names (read from the objects
# file) and define the same CheckCommand templates.
#
#   crates/picket-model/itl/check-names.sh          # all six libraries
#   crates/picket-model/itl/check-names.sh -v       # also list the names
#
# Our library is loaded by pointing Icinga's IncludeConfDir at this
# directory (`-I` alone is not enough: Icinga searches its own include
# directory first). Only names are compared; nothing is copied from
# Icinga's files. Needs icinga2 and python3.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
verbose="${1:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

libs=(itl plugins plugins-contrib manubulon windows-plugins nscp)

cat > "$work/test.conf" <<CONF
const PluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "/usr/lib/nagios/plugins"
const ManubulonPluginDir = "/usr/lib/nagios/plugins"
$(for l in "${libs[@]}"; do echo "include <$l>"; done)
for (t in get_templates(CheckCommand)) { log(LogInformation, "check-names", "template " + t.name) }
CONF

# run NAME [extra icinga2 arguments...]: validates test.conf, writes
# NAME.log, NAME.commands and NAME.templates.
run() {
  local name="$1"; shift
  mkdir -p "$work/$name"
  if ! icinga2 daemon -C -c "$work/test.conf" "$@" \
      -DRunAsUser="$(id -un)" -DRunAsGroup="$(id -gn)" \
      -DCacheDir="$work/$name" -DDataDir="$work/$name" > "$work/$name.log" 2>&1; then
    echo "FAIL: $name: icinga2 rejected the configuration" >&2
    grep -E 'critical/|warning/' "$work/$name.log" | head -20 >&2
    return 1
  fi
  python3 - "$work/$name/icinga2.debug" > "$work/$name.commands" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
i = 0
while i < len(data):            # netstring framing: LENGTH:JSON,
    j = data.index(b":", i)
    n = int(data[i:j])
    obj = json.loads(data[j + 1:j + 1 + n])
    i = j + 1 + n + 1
    if obj["type"] == "CheckCommand":
        print(obj["properties"]["name"])
PY
  sort -o "$work/$name.commands" "$work/$name.commands"
  sed -n 's/.*check-names: template //p' "$work/$name.log" | sort > "$work/$name.templates"
}

run icinga
run picket -DIncludeConfDir="$here"

status=0
problems="$(grep -E 'critical/|warning/' "$work/picket.log" || true)"
if [ -n "$problems" ]; then
  echo "FAIL: Picket's library gives errors or warnings:" >&2
  echo "$problems" >&2
  status=1
fi

for kind in commands templates; do
  if ! diff -u "$work/icinga.$kind" "$work/picket.$kind" > "$work/$kind.diff"; then
    echo "FAIL: CheckCommand $kind differ (- Icinga, + Picket):" >&2
    grep -E '^[-+][^-+]' "$work/$kind.diff" >&2
    status=1
  fi
done

echo "Icinga: $(wc -l < "$work/icinga.commands") CheckCommands, $(wc -l < "$work/icinga.templates") templates"
echo "Picket: $(wc -l < "$work/picket.commands") CheckCommands, $(wc -l < "$work/picket.templates") templates"
if [ "$verbose" = "-v" ]; then
  paste -d' ' <(tr '\n' ' ' < "$work/picket.commands") /dev/null | fold -s -w 100
fi
[ "$status" -eq 0 ] && echo "OK: same names, no warnings"
exit "$status"
