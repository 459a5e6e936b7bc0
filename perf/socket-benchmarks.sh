#!/usr/bin/env bash
# Durable postings over tally serve's Unix socket (issue 5's goals): builds the release tally binary
# and the SocketCommit harness of Benchmarks/, then runs the harness, which starts the server as a
# child process per scenario (a fresh data directory under perf/tmp), measures the disk floor in the
# same run, and prints per-run figures and medians. Raw output (text and JSON) goes to OUT.
#
#   perf/socket-benchmarks.sh                         # 3 runs of every scenario (about 7 minutes when idle)
#   perf/socket-benchmarks.sh --quick                 # one short run (about a minute)
#   perf/socket-benchmarks.sh --runs 5 --groups single
#   perf/socket-benchmarks.sh --only b8000-wire-d4 --depths 4 --shape transfer
#
# Arguments other than --quick go to the harness (SocketCommit --help lists them). Environment:
# ROOT_SCRATCH (default .build-bench) is the root package's build folder for the tally binary;
# SCRATCH (default Benchmarks/.build) the benchmarks' build folder; DIRECTORY (default perf/tmp)
# where data directories and sockets go; OUT (default perf/results/tmp/socket-<UTC time>) where the
# raw results go. SKIP_BUILD=1 runs the binaries already built. The machine is shared: every scenario prints the CPU the server, the load
# generator and everything else used during it.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
root_scratch="${ROOT_SCRATCH:-$root/.build-bench}"
scratch="${SCRATCH:-$root/Benchmarks/.build}"
directory="${DIRECTORY:-$root/perf/tmp}"
out="${OUT:-$root/perf/results/tmp/socket-$(date -u +%Y%m%dT%H%M%SZ)}"

if [ -z "${SKIP_BUILD:-}" ]; then
    swift build --package-path "$root" --scratch-path "$root_scratch" -c release --product tally >&2
    swift build --package-path "$root/Benchmarks" --scratch-path "$scratch" -c release --product SocketCommit >&2
fi
tally="$(swift build --package-path "$root" --scratch-path "$root_scratch" -c release --show-bin-path)/tally"
build=(swift build --package-path "$root/Benchmarks" --scratch-path "$scratch" -c release)
bin="$("${build[@]}" --show-bin-path)"

arguments=()
for argument in "$@"; do
    case "$argument" in
    --quick) arguments+=(--runs 1 --single-requests 3000 --single-warmup 500 --seconds 1.5
        --warmup-seconds 0.5 --prefill 100000 --floor-syncs 500) ;;
    *) arguments+=("$argument") ;;
    esac
done

mkdir -p "$directory" "$out"
{
    echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo '+changes')"
    echo "== $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)"
    top -bn2 -d 0.5 | awk '/^top -/{n++} n==2' | sed -n '7,14p'
} | tee "$out/machine.txt" >&2
"$bin/SocketCommit" --tally "$tally" --directory "$directory" --json-file "$out/report.json" \
    ${arguments[@]+"${arguments[@]}"} | tee "$out/report.txt"
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
echo "raw results: $out" >&2
