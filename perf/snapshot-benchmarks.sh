#!/usr/bin/env bash
# Snapshots at scale (issue 4's goals): builds the SnapshotRestart harness of Benchmarks/ in release
# and runs it. The first run builds a large state through the engine (1 million accounts, 10 million
# retained idempotency keys, 1 million open holds; a few minutes and about 2 GB of journal) in a data
# directory under perf/tmp (ignored by git), named after its shape; later runs with the same shape
# reuse it. Each measurement runs in a fresh process: restart to serving (and its phases), peak RSS,
# SnapshotFile.read throughput and each section taken apart, and restarts with a cold page cache.
#
#   perf/snapshot-benchmarks.sh                        # the full state, 5 runs and 3 cold runs
#   perf/snapshot-benchmarks.sh --quick                # a small state (100 K keys), 1 run: a smoke test
#   perf/snapshot-benchmarks.sh --rebuild              # build the state again (after a format change)
#   perf/snapshot-benchmarks.sh --span-days 6          # every transaction retained (worst case)
#   perf/snapshot-benchmarks.sh --json                 # the results as JSON
#
# Other arguments go to the harness (--help lists them). Environment: SCRATCH (default
# Benchmarks/.build) is the build folder; DIRECTORY (default perf/tmp) is where the data directory
# goes. The machine is shared: look at the load printed with every run.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${SCRATCH:-$root/Benchmarks/.build}"
directory="${DIRECTORY:-$root/perf/tmp}"
build=(swift build --package-path "$root/Benchmarks" --scratch-path "$scratch" -c release)

"${build[@]}" --product SnapshotRestart >&2
bin="$("${build[@]}" --show-bin-path)"
mkdir -p "$directory"

arguments=()
for argument in "$@"; do
    case "$argument" in
    --quick) arguments+=(--accounts 10000 --operations 100000 --open-holds 10000 --tail 1000 --runs 1 --cold-runs 1) ;;
    *) arguments+=("$argument") ;;
    esac
done

echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bin/SnapshotRestart" --directory "$directory" ${arguments[@]+"${arguments[@]}"}
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
