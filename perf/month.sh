#!/usr/bin/env bash
# A month of payment volume through one server (issue 6): builds the release tally, starts
# `tally serve --virtual-clock` on a fresh data directory under perf/tmp (snapshots on, at their
# defaults), drives it with `tally load` (the month scenario: about a million accounts, 30 business
# days), samples the server's memory, then kills the server with SIGKILL and times the restart to
# its first answer, and writes the figures to perf/results/<date>-month/summary.md with the raw JSON
# beside it (load.json, stats.json, ...); the analysis of a run goes in perf/results/<date>-month.md.
#
#   perf/month.sh                                  # 100 million postings
#   POSTINGS=5000000 ACCOUNTS=100000 perf/month.sh  # a smaller rehearsal
#
# Environment: POSTINGS (100000000), ACCOUNTS (1000000), CONNECTIONS (4), BATCH (8000 operations per
# request), VERIFY (1: verify the state; 0: --no-verify), SNAPSHOT_EVERY_RECORDS (1500), SCRATCH (.build-bench), DIRECTORY
# (perf/tmp), OUT (perf/results/<UTC date>-month). The machine is shared: the report records the
# load average and what else used the CPU.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
postings="${POSTINGS:-100000000}"
accounts="${ACCOUNTS:-1000000}"
connections="${CONNECTIONS:-4}"
batch="${BATCH:-8000}"
verify="${VERIFY:-1}"
scratch="${SCRATCH:-$root/.build-bench}"
directory="${DIRECTORY:-$root/perf/tmp}/month-$$"
date="$(date -u +%Y-%m-%d)"
out="${OUT:-$root/perf/results/$date-month}"

swift build --package-path "$root" --scratch-path "$scratch" -c release --product tally >&2
tally="$(swift build --package-path "$root" --scratch-path "$scratch" -c release --show-bin-path)/tally"
mkdir -p "$directory" "$out"
socket="$directory/tally.sock"

scenario="$out/scenario.json"
sed "s/\"accounts\": [0-9]*/\"accounts\": $accounts/" "$root/perf/scenarios/month.json" > "$scenario"

start_server() {
    # Records hold 8,000 operations here: a snapshot every 1,500 records (12 million operations)
    # or every minute keeps the journal tail a restart replays short.
    "$tally" serve --data-directory "$directory/data" --socket "$socket" --virtual-clock \
        --expected-accounts "$accounts" --log-level warning \
        --snapshot-every-records "${SNAPSHOT_EVERY_RECORDS:-1500}" --snapshot-interval-seconds 60 \
        2>> "$directory/serve.log" &
    server=$!
    local started
    started=$(date +%s%N)
    until "$tally" stats --socket "$socket" --json > /dev/null 2>&1; do
        kill -0 "$server" 2>/dev/null || { echo "month: the server exited; see $directory/serve.log" >&2; exit 1; }
        sleep 0.05
    done
    ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
}

{
    echo "commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo '+changes')"
    echo "$(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"

start_server
echo "month: server pid $server ready in ${ready_ms} ms; $postings postings over about $accounts accounts" >&2

# Peak resident memory of the server, sampled every second (VmHWM is the kernel's own peak).
(while kill -0 "$server" 2>/dev/null; do grep VmHWM "/proc/$server/status" 2>/dev/null | awk '{print $2}' > "$out/server-peak-kb.txt"; sleep 1; done) &
sampler=$!

verify_flag=()
[ "$verify" = "1" ] || verify_flag=(--no-verify)
/usr/bin/time -v -o "$out/load-time.txt" "$tally" load --socket "$socket" --scenario "$scenario" \
    --postings "$postings" --connections "$connections" --batch-operations "$batch" \
    --business-days 30 --json "${verify_flag[@]}" > "$out/load.json" || true
"$tally" stats --socket "$socket" --json > "$out/stats.json"
peak_kb=$(cat "$out/server-peak-kb.txt")
journal_bytes=$(du -sb "$directory/data/journal" | cut -f1)
snapshot_bytes=$(du -sb "$directory/data/snapshots" 2>/dev/null | cut -f1 || echo 0)
snapshots=$(ls "$directory/data/snapshots" 2>/dev/null | grep -c '\.tsnap$' || true)

# A crash, then the restart to the first answer.
kill -9 "$server"; wait "$server" 2>/dev/null || true
kill "$sampler" 2>/dev/null || true
start_server
restart_ms=$ready_ms
"$tally" stats --socket "$socket" --json > "$out/stats-after-restart.json"
kill -TERM "$server"; wait "$server" || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"

python3 - "$out" "$peak_kb" "$journal_bytes" "$snapshot_bytes" "$snapshots" "$restart_ms" "$postings" "$accounts" <<'PY'
import json, sys, os
out, peak_kb, journal, snapshot, snapshots, restart_ms, postings, accounts = sys.argv[1:]
load = json.load(open(os.path.join(out, "load.json")))
stats = json.load(open(os.path.join(out, "stats.json")))
after = json.load(open(os.path.join(out, "stats-after-restart.json")))
generator_peak = ""
for line in open(os.path.join(out, "load-time.txt")):
    if "Maximum resident set size" in line:
        generator_peak = "%.2f GB" % (int(line.split(":")[1]) / 1e6)
lat = load.get("latency_us", {})
rows = [
    ("postings", f"{load.get('postings', 0):,}"),
    ("seconds", load.get("seconds")),
    ("postings per second", f"{load.get('postings_per_second', 0):,.0f}"),
    ("latency per request p50 / p99 / p99.9 / max", f"{lat.get('p50')} / {lat.get('p99')} / {lat.get('p999')} / {lat.get('max')} µs"),
    ("requests", f"{load.get('requests', 0):,} of {load.get('connections')} connections x {load.get('batch_operations')} operations"),
    ("rejected by code", ", ".join(f"{k} {v:,}" for k, v in sorted(load.get("rejected", {}).items())) or "none"),
    ("errors", load.get("errors")),
    ("verified", load.get("verified")),
    ("server peak resident memory", "%.2f GB" % (int(peak_kb) / 1e6)),
    ("load generator peak resident memory (its verification model included)", generator_peak),
    ("accounts", f"{stats.get('ledger.accounts', 0):,}"),
    ("transactions", f"{stats.get('ledger.transactions', 0):,}"),
    ("journal (segments and archive)", "%.2f GB" % (int(journal) / 1e9)),
    ("snapshots kept", f"{snapshots}, {int(snapshot) / 1e9:.2f} GB"),
    ("snapshots written during the run", stats.get("snapshot.written")),
    ("restart after SIGKILL, to the first answer", f"{int(restart_ms) / 1000:.2f} s"),
    ("sequence after restart", f"{after.get('journal.durable_sequence'):,} (before: {stats.get('journal.durable_sequence'):,})"),
]
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write("| figure | value |\n|---|---|\n")
    for name, value in rows:
        f.write(f"| {name} | {value} |\n")
print(open(os.path.join(out, "summary.md")).read())
PY
rm -rf "$directory"
echo "raw results: $out" >&2
