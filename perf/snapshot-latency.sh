#!/usr/bin/env bash
# Posting latency while a background snapshot is written (issue 4's goal: p99 within 2x of p99
# without one): builds the SnapshotLatency harness of Benchmarks/ in release and runs it. The first
# run builds a large state through the engine (1 million accounts, 10 million retained idempotency
# keys, 1 million open holds; about 2 minutes) in a data directory under perf/tmp (ignored by git),
# named after its shape; later runs reuse it. Each session (one per --callers count) works on a
# fresh copy of it with one open engine, and alternates phases without a snapshot (A) and with one
# being made (B), interleaved, --pairs times.
#
#   perf/snapshot-latency.sh                          # 1 and 16 callers, 4 A/B pairs each
#   perf/snapshot-latency.sh --quick                  # a small state (100 K keys), short phases: a smoke test
#   perf/snapshot-latency.sh --rebuild                # build the state again (after a format change)
#   perf/snapshot-latency.sh --callers 1 --writeback-mib 8   # prototype: paced writeback of the snapshot
#   perf/snapshot-latency.sh --callers 1 --sched-idle        # prototype: snapshot threads at SCHED_IDLE
#   perf/snapshot-latency.sh --json                   # the results as JSON
#
# Other arguments go to the harness (--help lists them). Environment: SCRATCH (default
# Benchmarks/.build) is the build folder; DIRECTORY (default perf/tmp) is where the data directories
# go. The machine is shared: the load is printed before and after, and the harness refuses nothing,
# so look at it (and at other benchmarks running) before trusting a figure.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${SCRATCH:-$root/Benchmarks/.build}"
directory="${DIRECTORY:-$root/perf/tmp}"
build=(swift build --package-path "$root/Benchmarks" --scratch-path "$scratch" -c release)

"${build[@]}" --product SnapshotLatency >&2
bin="$("${build[@]}" --show-bin-path)"
mkdir -p "$directory"

arguments=()
for argument in "$@"; do
    case "$argument" in
    --quick)
        arguments+=(--accounts 10000 --operations 100000 --open-holds 10000 --pairs 2 --a-seconds 3)
        arguments+=(--settle-seconds 1 --warmup-seconds 1 --control-seconds 3)
        ;;
    *) arguments+=("$argument") ;;
    esac
done

others="$(pgrep -fa 'SnapshotRestart|EngineCommit|JournalCommit|CoreThroughput|DiskFloor|xctest' | grep -v pgrep || true)"
if [ -n "$others" ]; then
    echo "== other benchmarks or tests are running (figures will be disturbed):" >&2
    echo "$others" | cut -c1-160 >&2
fi
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bin/SnapshotLatency" --directory "$directory" ${arguments[@]+"${arguments[@]}"}
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
