// swift-tools-version: 6.1

import PackageDescription

let package = Package(
    name: "Tally",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TallyCore", targets: ["TallyCore"]),
        .library(name: "TallyStorage", targets: ["TallyStorage"]),
        .library(name: "TallyEngine", targets: ["TallyEngine"]),
        .library(name: "TallyWire", targets: ["TallyWire"]),
        .library(name: "TallyServer", targets: ["TallyServer"]),
        .library(name: "TallyClient", targets: ["TallyClient"]),
        .library(name: "TallyTestKit", targets: ["TallyTestKit"]),
        .executable(name: "tally", targets: ["tally"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        .target(
            name: "TallyCore",
            dependencies: [
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "CTallySystem"
        ),
        .systemLibrary(
            name: "CZstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .target(
            name: "TallyStorage",
            dependencies: [
                "CTallySystem",
                "CZstd",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "TallyEngine",
            dependencies: [
                "TallyCore",
                "TallyStorage",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            // The wire protocol as a pure codec (docs/PROTOCOL.md): frames and messages, no I/O.
            name: "TallyWire",
            dependencies: ["TallyCore"]
        ),
        .target(
            // SwiftNIO on a Unix socket: connections, limits, peer credentials, the bridge to the engine.
            name: "TallyServer",
            dependencies: [
                "TallyCore",
                "TallyEngine",
                "TallyWire",
                "CTallySystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .target(
            // The async client used by the command line, the tests and the load generator.
            name: "TallyClient",
            dependencies: [
                "TallyCore",
                "TallyWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "TallyTestKit",
            dependencies: ["TallyCore", "TallyStorage", "TallyWire"]
        ),
        .executableTarget(
            name: "tally",
            dependencies: [
                "TallyCore",
                "TallyEngine",
                "TallyStorage",
                "TallyTestKit",
                "TallyServer",
                "TallyClient",
                "TallyWire",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "TallyCrashChild",
            dependencies: [
                "TallyCore",
                "TallyEngine",
                "TallyStorage",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(
            name: "TallyCoreTests",
            dependencies: ["TallyCore", "TallyTestKit"]
        ),
        .testTarget(
            name: "TallyTestKitTests",
            dependencies: ["TallyCore", "TallyTestKit"]
        ),
        .testTarget(
            name: "TallyStorageTests",
            dependencies: ["TallyStorage", "TallyTestKit"]
        ),
        .testTarget(
            name: "TallyWireTests",
            // TallyStorage: to check that the largest frame's batch fits one journal record.
            dependencies: ["TallyWire", "TallyCore", "TallyStorage", "TallyTestKit"]
        ),
        .testTarget(
            name: "TallyServerTests",
            dependencies: [
                "TallyServer", "TallyEngine", "TallyWire", "TallyCore", "TallyStorage", "TallyTestKit",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "TallyClientTests",
            dependencies: [
                "TallyClient", "TallyWire", "TallyCore", "TallyTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TallyEngineTests",
            // TallyCrashChild: CrashTests runs it as a separate process; the dependency makes every
            // build of the tests build it too.
            dependencies: ["TallyEngine", "TallyCore", "TallyStorage", "TallyTestKit", "TallyCrashChild"]
        ),
        .testTarget(
            name: "TallyCommandTests",
            // tally: the tests run the built executable as a separate process; the dependency makes
            // every build of the tests build it too. TallyStorage: to hold a data directory's lock.
            dependencies: [
                "tally", "TallyStorage", "TallyTestKit", "TallyClient", "TallyWire", "TallyCore",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
    ]
)
