#!/usr/bin/env bash
# The durability harnesses of Benchmarks/ (issue 3's goals): builds DiskFloor, JournalCommit and
# EngineCommit in release and runs them, all in one directory on the file system of the data
# (default perf/tmp, ignored by git). Each prints the median of several runs, with the lowest and
# highest, and the ratios to the disk floor measured in the same run.
#
#   perf/journal-benchmarks.sh                       # all three, full (about 6 minutes when idle)
#   perf/journal-benchmarks.sh --quick               # all three, one short run each (under a minute)
#   perf/journal-benchmarks.sh --json                # the same, as JSON (one document per harness)
#   perf/journal-benchmarks.sh disk [args]           # DiskFloor only, e.g. --runs 9 --unwritten
#   perf/journal-benchmarks.sh journal [args]        # JournalCommit only, e.g. --payloads 1048576
#   perf/journal-benchmarks.sh engine [args]         # EngineCommit only, e.g. --callers 64 --batches 1
#
# Every harness takes --help. Environment: SCRATCH (default Benchmarks/.build) is the build folder;
# DIRECTORY (default perf/tmp) is where the scratch files and data directories go. The machine is
# shared: look at the load printed with every run (`uptime`), and compare ratios within a run.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${SCRATCH:-$root/Benchmarks/.build}"
directory="${DIRECTORY:-$root/perf/tmp}"
build=(swift build --package-path "$root/Benchmarks" --scratch-path "$scratch" -c release)

for product in DiskFloor JournalCommit EngineCommit; do
    "${build[@]}" --product "$product" >&2
done
bin="$("${build[@]}" --show-bin-path)"
mkdir -p "$directory"

mode="${1:-all}"
case "$mode" in
disk)
    shift
    exec "$bin/DiskFloor" --directory "$directory" "$@"
    ;;
journal)
    shift
    exec "$bin/JournalCommit" --directory "$directory" "$@"
    ;;
engine)
    shift
    exec "$bin/EngineCommit" --directory "$directory" "$@"
    ;;
esac

quick=false
extra=()
for argument in "$@"; do
    case "$argument" in
    all) ;;
    --quick) quick=true ;;
    --json) extra+=(--json) ;;
    *)
        echo "error: unknown argument $argument (see the top of $0)" >&2
        exit 2
        ;;
    esac
done

if $quick; then
    disk=(--runs 1 --syncs 500 --bandwidth-mib 64)
    journal=(--runs 1 --records 500 --seconds 1 --warmup-seconds 0.3 --bandwidth-mib 64)
    engine=(--runs 1 --requests 500 --seconds 1 --warmup-seconds 0.3 --prefill 200000
        --callers 64,256 --batches 1,1000 --async-callers 64 --bandwidth-mib 64)
else
    disk=()
    journal=()
    engine=()
fi

echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bin/DiskFloor" --directory "$directory" ${disk[@]+"${disk[@]}"} ${extra[@]+"${extra[@]}"}
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bin/JournalCommit" --directory "$directory" ${journal[@]+"${journal[@]}"} ${extra[@]+"${extra[@]}"}
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bin/EngineCommit" --directory "$directory" ${engine[@]+"${engine[@]}"} ${extra[@]+"${extra[@]}"}
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
