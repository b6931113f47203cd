#!/usr/bin/env bash
# Side-by-side `daemon -C`: Picket against Icinga 2 on the same generated
# configurations, in one run. Prints wall time and peak RSS (GNU time) for
# each size and each daemon, median of REPEAT runs.
#
#   bench/validate.sh                    # 10,000 hosts x 10 apply services; 100,000 hosts x 1
#   SIZES="1000x10" REPEAT=1 bench/validate.sh
#
# Needs: cargo (builds picket in release mode), icinga2, /usr/bin/time,
# python3 and ../shared/bench/gen-config.
set -euo pipefail
cd "$(dirname "$0")/.."
GEN="${GEN:-../shared/bench/gen-config}"
SIZES="${SIZES:-10000x10 100000x1}"
REPEAT="${REPEAT:-3}"
MODE="${MODE:-apply}"

cargo build --release -q -p picket
PICKET="$PWD/target/release/picket"
work="$(mktemp -d /tmp/picket-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

measure() { # name, command...: prints "wall_s rss_mib exit"
  local out="$work/time.txt"
  local rc=0
  /usr/bin/time -v -o "$out" "$@" >/dev/null 2>&1 || rc=$?
  python3 - "$out" "$rc" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
secs = sum(float(v) * 60 ** i for i, v in enumerate(reversed(wall.split(":"))))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
print(f"{secs:.3f} {rss:.0f} {sys.argv[2]}")
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| hosts x services | mode | daemon | wall s (median of $REPEAT) | peak RSS MiB | exit |"
echo "|---|---|---|---|---|---|"
for size in $SIZES; do
  hosts="${size%x*}"; per="${size#*x}"
  dir="$work/$size"
  "$GEN" --out "$dir" --hosts "$hosts" --services-per-host "$per" --interval 5m --mode "$MODE" >/dev/null
  defines=(-DConfigDir="$dir/etc" -DDataDir="$dir/var/lib" -DLogDir="$dir/var/log" -DCacheDir="$dir/var/cache"
           -DSpoolDir="$dir/var/spool" -DInitRunDir="$dir/run" -DPidPath="$dir/run/icinga2.pid"
           -DRunAsUser=root -DRunAsGroup=root)
  for daemon in icinga2 picket; do
    bin=icinga2; [ "$daemon" = picket ] && bin="$PICKET"
    walls=(); rss=0; rc=0
    for _ in $(seq "$REPEAT"); do
      read -r w r c < <(measure "$bin" daemon -C -c "$dir/etc/icinga2.conf" "${defines[@]}")
      walls+=("$w"); rss="$r"; rc="$c"
    done
    med="$(printf '%s\n' "${walls[@]}" | median)"
    echo "| $hosts x $per | $MODE | $daemon | $med | $rss | $rc |"
  done
done
