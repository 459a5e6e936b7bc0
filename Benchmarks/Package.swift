// swift-tools-version: 6.1

// Tally's benchmarks: a package of its own, so that the benchmark harness and its malloc
// interposer never become dependencies of the product. It uses the root package by path.
//
//   cd Benchmarks && swift package benchmark                     # every suite
//   cd Benchmarks && swift package benchmark thresholds check    # the allocation gate
//   perf/core-throughput.sh                                      # the plain wall-clock harness
//
// Benchmarks/README.md says more.

import PackageDescription

import struct Foundation.URL

// A path dependency's identity is its folder's name, which depends on where the repository was
// cloned (CI clones need not be called "main" or "tally"); take it from this manifest's location.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let tallyCore: Target.Dependency = .product(name: "TallyCore", package: root.lastPathComponent)

let package = Package(
    name: "TallyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // The default trait set also enables RuntimeInterposer, which pulls a package that is not
        // available here; the malloc interposer alone gives the allocation metrics.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
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
