// swift-tools-version: 6.1

// Tally's benchmarks: a package of its own, so that the benchmark harness and its malloc
// interposer never become dependencies of the product. It uses the root package by path.
//
//   cd Benchmarks && swift package benchmark                     # every suite
//   cd Benchmarks && swift package benchmark thresholds check    # the allocation gate
//   perf/core-throughput.sh                                      # the plain wall-clock harness
//   perf/journal-benchmarks.sh                                   # disk floor, journal and engine commit
//   perf/snapshot-benchmarks.sh                                  # snapshot size, decode, restart at scale
//   perf/snapshot-latency.sh                                     # posting latency during a snapshot
//   perf/socket-benchmarks.sh                                    # durable postings over tally serve's socket
//
// Benchmarks/README.md says more.

import PackageDescription

import struct Foundation.URL

// A path dependency's identity is its folder's name, which depends on where the repository was
// cloned (CI clones need not be called "main" or "tally"); take it from this manifest's location.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let tallyCore: Target.Dependency = .product(name: "TallyCore", package: root.lastPathComponent)
let tallyStorage: Target.Dependency = .product(name: "TallyStorage", package: root.lastPathComponent)
let tallyEngine: Target.Dependency = .product(name: "TallyEngine", package: root.lastPathComponent)
let tallyWire: Target.Dependency = .product(name: "TallyWire", package: root.lastPathComponent)
let tallyClient: Target.Dependency = .product(name: "TallyClient", package: root.lastPathComponent)
let tallyTestKit: Target.Dependency = .product(name: "TallyTestKit", package: root.lastPathComponent)

let package = Package(
    name: "TallyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // The default trait set also enables RuntimeInterposer, which pulls a package that is not
        // available here; the malloc interposer alone gives the allocation metrics.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // Both are in the graph already (the benchmark harness and the root package use them).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        // Deterministic workloads shared by the suites and the plain harness: accounts, and
        // operations that are pure functions of a sequence number.
        .target(
            name: "LedgerWorkloads",
            dependencies: [tallyCore]
        ),
        // Memory per retained idempotency key, measured from malloc and the resident set.
        .executableTarget(
            name: "KeyMemory",
            dependencies: [tallyCore]
        ),
        // A dependency-free (but for the core) wall-clock harness: perf/core-throughput.sh runs it.
        .executableTarget(
            name: "CoreThroughput",
            dependencies: ["LedgerWorkloads", tallyCore]
        ),
        // What the commit harnesses share: the disk probes (so that every harness can measure the
        // disk floor in its own run), a metered file system, latency histograms, per-thread CPU and
        // context-switch counts, and the summary and JSON output.
        .target(
            name: "CommitBenchmarkSupport",
            dependencies: [
                tallyStorage,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The disk's own cost: 4 KiB pwrite + fdatasync latency and sequential synced bandwidth.
        .executableTarget(
            name: "DiskFloor",
            dependencies: ["CommitBenchmarkSupport"]
        ),
        // TallyStorage.Journal alone: commit latency of one record, and sustained group commit.
        .executableTarget(
            name: "JournalCommit",
            dependencies: [
                "CommitBenchmarkSupport",
                tallyStorage,
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // TallyEngine.Engine over the real file system: durable single-operation latency, many
        // concurrent callers, large groups.
        .executableTarget(
            name: "EngineCommit",
            dependencies: [
                "CommitBenchmarkSupport",
                "LedgerWorkloads",
                tallyCore,
                tallyStorage,
                tallyEngine,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // What the snapshot harnesses share: the shape of their large state (the accounts of a payment
        // service provider) and the steps of building it through the engine, up to its snapshot.
        .target(
            name: "SnapshotBenchmarkSupport",
            dependencies: [
                "CommitBenchmarkSupport",
                tallyCore,
                tallyEngine,
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Snapshots at scale: a large state built through the engine, the snapshot's size per section,
        // SnapshotFile.read throughput per section, and restart to serving (perf/snapshot-benchmarks.sh).
        .executableTarget(
            name: "SnapshotRestart",
            dependencies: [
                "CommitBenchmarkSupport",
                "SnapshotBenchmarkSupport",
                tallyCore,
                tallyStorage,
                tallyEngine,
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // What the SnapshotLatency harness needs from C: thread ids and names, SCHED_IDLE, ioprio_set,
        // sync_file_range.
        .target(name: "CSnapshotLatency"),
        // Posting latency while a background snapshot of a large state is written, against no snapshot
        // (perf/snapshot-latency.sh), with the snapshot split into stages from its file system calls.
        .executableTarget(
            name: "SnapshotLatency",
            dependencies: [
                "CSnapshotLatency",
                "CommitBenchmarkSupport",
                "SnapshotBenchmarkSupport",
                tallyCore,
                tallyStorage,
                tallyEngine,
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Durable postings over the Unix socket of the release `tally serve` (a child process): single
        // round trips, many connections, large pipelined batches, over the raw frame socket and over
        // TallyClient, with the disk floor measured in the same run (perf/socket-benchmarks.sh).
        .executableTarget(
            name: "SocketCommit",
            dependencies: [
                "CommitBenchmarkSupport",
                "LedgerWorkloads",
                tallyCore,
                tallyWire,
                tallyClient,
                tallyTestKit,
            ]
        ),
    ]
)

// One suite per layer; the benchmark plugin runs every executable target under Benchmarks/.
package.targets += [
    .executableTarget(
        name: "LedgerCore",
        dependencies: [
            "LedgerWorkloads",
            tallyCore,
            .product(name: "Benchmark", package: "benchmark"),
        ],
        path: "Benchmarks/LedgerCore",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
]
