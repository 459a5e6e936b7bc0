#!/usr/bin/env bash
# The plain throughput harness for the ledger core, as a quick second opinion to the LedgerCore
# benchmark suite: builds Benchmarks' CoreThroughput in release and runs it. No benchmark
# framework and no malloc interposer are involved; it prints the median of several runs.
#
#   perf/core-throughput.sh                          # 5 runs x 5,000,000 2-leg posts
#   perf/core-throughput.sh --runs 9 --operations 10000000
#   perf/core-throughput.sh --workload capture       # transfer | capture | hold | replay
#   perf/core-throughput.sh --mallocs                # heap allocations per operation (valgrind)
#   perf/core-throughput.sh --instructions           # instructions per operation in apply (valgrind)
#
# --mallocs runs the harness twice under valgrind's memcheck, with 0 and with 200,000 operations
# on top of the same (smaller) prefill, and divides the difference in allocations.
# --instructions runs it twice under callgrind, collecting only inside Ledger.apply, with 100,000
# and 300,000 operations after a prefill past the idempotency window (steady state, evicting),
# and divides the difference: instructions per operation, the same on a loaded machine as on an
# idle one (this machine's perf counters are not available, so the benchmark suite's
# `instructions` metric measures nothing here). Both are slow (minutes) but exact, and need
# nothing but valgrind. Extra arguments (e.g. --workload capture) go to the harness.
#
# Environment: SCRATCH (default Benchmarks/.build) is the build folder.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${SCRATCH:-$root/Benchmarks/.build}"
build=(swift build --package-path "$root/Benchmarks" --scratch-path "$scratch" -c release)

"${build[@]}" --product CoreThroughput >&2
binary="$("${build[@]}" --show-bin-path)/CoreThroughput"

mode="${1:-}"
if [[ "$mode" != "--mallocs" && "$mode" != "--instructions" ]]; then
    exec "$binary" "$@"
fi
shift

if ! command -v valgrind >/dev/null; then
    echo "error: $mode needs valgrind" >&2
    exit 2
fi

if [[ "$mode" == "--instructions" ]]; then
    prefill="${PREFILL:-2100000}"
    instructions() {
        local count="$1"
        shift
        SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
            --toggle-collect='*TallyCore6LedgerV5apply_2at7results*' \
            "$binary" --runs 1 --prefill "$prefill" --operations "$count" "$@" 2>&1 >/dev/null |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    # The two runs are independent: run them side by side.
    small_file="$(mktemp)"
    instructions 100000 "$@" >"$small_file" &
    large="$(instructions 300000 "$@")"
    wait
    small="$(cat "$small_file")"
    rm -f "$small_file"
    if [[ -z "$small" || -z "$large" ]]; then
        echo "error: callgrind reported nothing (is Ledger.apply(_:at:results:) still the entry point?)" >&2
        exit 1
    fi
    echo "instructions in Ledger.apply: $small with 100000 operations, $large with 300000 (prefill $prefill)"
    awk -v a="$small" -v b="$large" 'BEGIN { printf "instructions per operation: %.0f\n", (b - a) / 200000 }'
    exit 0
fi

operations=200000
prefill=300000
allocations() {
    local count="$1"
    shift
    SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=memcheck --leak-check=no "$binary" --runs 1 --prefill "$prefill" --operations "$count" "$@" 2>&1 >/dev/null |
        sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,
}
base="$(allocations 0 "$@")"
loaded="$(allocations "$operations" "$@")"
echo "heap allocations: $base with prefill $prefill, $loaded with $operations operations more"
awk -v a="$base" -v b="$loaded" -v n="$operations" \
    'BEGIN { printf "allocations per operation: %.4f\n", (b - a) / n }'
