import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the machine was doing and where the files were: printed with every result, because on a
/// shared machine a figure means little without the load it was measured under.
public struct MachineState: Codable, Sendable {
    public var loadAverage1Minute: Double
    public var loadAverage5Minutes: Double
    public var directory: String
    public var fileSystemType: String
    public var device: String
    public var mountPoint: String

    public static func sample(directory: String) -> MachineState {
        let load = readSmallFile("/proc/loadavg")?.split(separator: " ").compactMap { Double($0) } ?? []
        let real = realPath(directory) ?? directory
        var best = (mountPoint: "", type: "?", device: "?")
        for line in (readSmallFile("/proc/self/mounts") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let mountPoint = String(fields[1])
            let covers =
                real == mountPoint || mountPoint == "/" || real.hasPrefix(mountPoint + "/")
            if covers && mountPoint.count >= best.mountPoint.count {
                best = (mountPoint, String(fields[2]), String(fields[0]))
            }
        }
        return MachineState(
            loadAverage1Minute: load.count > 0 ? load[0] : .nan,
            loadAverage5Minutes: load.count > 1 ? load[1] : .nan,
            directory: real,
            fileSystemType: best.type,
            device: best.device,
            mountPoint: best.mountPoint
        )
    }

    public var loadText: String {
        "load \(format(self.loadAverage1Minute, digits: 2))"
    }

    public var fileSystemText: String {
        "\(self.directory) on \(self.fileSystemType) \(self.device) (mounted at \(self.mountPoint))"
    }
}

/// The whole of a small file (procfs files report size 0, so read until the end).
public func readSmallFile(_ path: String) -> String? {
    let file = open(path, O_RDONLY | O_CLOEXEC)
    guard file >= 0 else { return nil }
    defer { close(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4_096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR {
            continue
        }
        guard count > 0 else { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}

func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// Where the harnesses put their files unless told: `perf/tmp` of this repository (ignored by git),
/// on the same file system as a data directory in the repository would be.
public let defaultScratchDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 {
        url.deleteLastPathComponent()
    }
    return url.appendingPathComponent("perf/tmp").path
}()

/// A fresh directory inside `parent` (created if needed), removed with everything in it by
/// ``remove()``.
public final class ScratchDirectory {
    public let path: String
    // Only the harness's main thread makes scratch directories.
    nonisolated(unsafe) private static var counter = 0

    public init(in parent: String, prefix: String) throws {
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        Self.counter += 1
        self.path = parent + "/\(prefix)-\(getpid())-\(Self.counter)"
        try? FileManager.default.removeItem(atPath: self.path)
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: false)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// Prints `value` as pretty, key-sorted JSON.
public func printJSON<Value: Encodable>(_ value: Value) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf",
        negativeInfinity: "-inf",
        nan: "nan"
    )
    do {
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    } catch {
        print("{\"error\": \"cannot encode the results: \(error)\"}")
    }
}
