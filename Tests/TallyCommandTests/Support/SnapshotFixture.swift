import Foundation

/// One data directory built once for all the snapshot command tests (running the workload is what
/// takes time): the workload run twice, with `tally snapshot create` after each run, so it holds two
/// snapshots. Tests that change files work on a copy (``copy(named:)``); the rest only read it.
struct SnapshotFixture: Sendable {
    /// A work folder for this test process, removed when it exits.
    static let root: String = {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("tally-command-tests-\(getpid())-\(UUID().uuidString.prefix(8))").path
        atexit { try? FileManager.default.removeItem(atPath: SnapshotFixture.root) }
        return root
    }()

    /// Built on first use; every test that uses it gets the same one (or the same error).
    static let shared = Result { try SnapshotFixture() }

    /// Workload options small enough for a second or so per run.
    static func simulate(_ directory: String, seed: Int, operations: Int) -> [String] {
        [
            "simulate", "--data-directory", directory, "--seed", "\(seed)", "--operations", "\(operations)",
            "--batch-size", "250", "--accounts", "40", "--json",
        ]
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    let directory: String
    /// The first run, and `create`'s human output after it.
    let first: CommandOutput.Simulate
    let firstCreateOutput: String
    /// The second run, and `create --json` after it.
    let second: CommandOutput.Simulate
    let created: CommandOutput.Create

    private init() throws {
        self.directory = Self.root + "/fixture"
        try FileManager.default.createDirectory(atPath: Self.root, withIntermediateDirectories: true)
        func succeed(_ arguments: [String]) throws -> TallyBinary.Run {
            let run = try TallyBinary.run(arguments)
            guard run.status == 0 else { throw Failed(description: "fixture step failed: \(run)") }
            return run
        }
        self.first = try succeed(Self.simulate(self.directory, seed: 1, operations: 1_000)).json()
        self.firstCreateOutput = try succeed(["snapshot", "create", "--data-directory", self.directory]).output
        self.second = try succeed(Self.simulate(self.directory, seed: 2, operations: 500)).json()
        self.created = try succeed(["snapshot", "create", "--data-directory", self.directory, "--json"]).json()
    }

    /// The path of the snapshot through `sequence`.
    func snapshot(_ sequence: UInt64, in directory: String? = nil) -> String {
        let digits = String(sequence)
        return (directory ?? self.directory) + "/snapshots/snapshot-"
            + String(repeating: "0", count: 20 - digits.count) + digits + ".tsnap"
    }

    /// A copy of the data directory for a test that changes it, at a new path under ``root``.
    func copy(named name: String) throws -> String {
        let copy = Self.root + "/\(name)-\(UUID().uuidString.prefix(8))"
        try Self.copySparsely(self.directory, to: copy)
        return copy
    }

    /// Copies a directory tree, leaving holes where a file has blocks of zeros: a journal segment is
    /// 64 MiB allocated up front and almost all zeros here, and each test's copy should not write it.
    static func copySparsely(_ source: String, to destination: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for name in try manager.contentsOfDirectory(atPath: source) {
            let from = source + "/" + name
            let to = destination + "/" + name
            var isDirectory: ObjCBool = false
            _ = manager.fileExists(atPath: from, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                try Self.copySparsely(from, to: to)
                continue
            }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: from))
            guard manager.createFile(atPath: to, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw Failed(description: "cannot create \(to)")
            }
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: to))
            defer { try? file.close() }
            let block = 64 << 10
            let zeros = [UInt8](repeating: 0, count: block)
            for start in stride(from: 0, to: bytes.count, by: block) {
                let piece = bytes[start..<min(start + block, bytes.count)]
                // memcmp: a byte-by-byte loop over 64 MiB is slow in a debug build.
                let isZero = piece.withUnsafeBytes { memcmp($0.baseAddress!, zeros, $0.count) == 0 }
                if !isZero {
                    try file.seek(toOffset: UInt64(start))
                    try file.write(contentsOf: piece)
                }
            }
            try file.truncate(atOffset: UInt64(bytes.count))
        }
    }

    /// Every file under `directory` with its size and modification time, to show nothing changed.
    static func tree(_ directory: String) throws -> [String: String] {
        var tree: [String: String] = [:]
        let manager = FileManager.default
        for case let path as String in manager.enumerator(atPath: directory)?.allObjects ?? [] {
            let attributes = try manager.attributesOfItem(atPath: directory + "/" + path)
            tree[path] =
                "\(attributes[.size] ?? "?") \((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        }
        return tree
    }
}
