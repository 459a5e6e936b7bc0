import Foundation
import SystemPackage
import TallyStorage
import TallyTestKit
import Testing

/// The test file system itself: a fault that does not fire or a power loss that reverts nothing
/// would make every test built on it pass for nothing.
@Suite("Fault-injecting file system", .timeLimit(.minutes(1)))
struct FaultInjectingFileSystemTests {
    static let page = FaultInjectingFileSystem.pageBytes

    /// Writes `bytes` at `offset` through `fileSystem`.
    static func write(_ fileSystem: any FileSystem, _ file: FileDescriptor, _ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { try fileSystem.write(file, $0, at: Int64(offset)) }
    }

    @Test func aPowerLossRevertsWhatWasNotSynced() throws {
        try withTemporaryDirectory { directory in
            let fileSystem = FaultInjectingFileSystem()
            let path = directory.appending("data")
            let file = try fileSystem.openFile(path, create: true)
            let synced = payload(3 * Self.page, seed: 1)
            try Self.write(fileSystem, file, synced, at: 0)
            try fileSystem.synchronizeData(file)
            #expect(fileSystem.unsyncedPageCounts.isEmpty)

            // Overwrite the middle of pages 0 to 2 and extend the file into page 3.
            try Self.write(fileSystem, file, payload(2 * Self.page, seed: 2), at: 1_000)
            try Self.write(fileSystem, file, payload(500, seed: 3), at: 3 * Self.page + 100)
            #expect(fileSystem.unsyncedPageCounts == [path: 4])
            let report = try fileSystem.simulatePowerLoss()
            #expect(report.revertedPages == [path: [0, 4_096, 8_192, 12_288]])
            #expect(report.keptPages.isEmpty)
            // The file keeps its new size (metadata is not modeled); the extension is zeros.
            let expected = synced + [UInt8](repeating: 0, count: 600)
            #expect(try fileBytes(path) == expected)
            try fileSystem.close(file)
        }
    }

    @Test func tearingKeepsASeededSubsetOfPages() throws {
        try withTemporaryDirectory { directory in
            var reports: [FaultInjectingFileSystem.PowerLossReport] = []
            for attempt in 0..<2 {
                let fileSystem = FaultInjectingFileSystem()
                let path = directory.appending("data-\(attempt)")
                let file = try fileSystem.openFile(path, create: true)
                let zeros = [UInt8](repeating: 0, count: 16 * Self.page)
                try Self.write(fileSystem, file, zeros, at: 0)
                try fileSystem.synchronize(file)
                let written = payload(16 * Self.page, seed: 5)
                try Self.write(fileSystem, file, written, at: 0)
                let report = try fileSystem.simulatePowerLoss(tearing: .randomPages(seed: 42))
                reports.append(report)
                let kept = Set(report.keptPages[path] ?? [])
                let reverted = Set(report.revertedPages[path] ?? [])
                #expect(kept.union(reverted) == Set((0..<16).map { Int64($0 * Self.page) }))
                #expect(kept.isDisjoint(with: reverted))
                #expect(!kept.isEmpty && !reverted.isEmpty)
                let bytes = try fileBytes(path)
                for start in stride(from: 0, to: 16 * Self.page, by: Self.page) {
                    let page = Array(bytes[start..<start + Self.page])
                    let expected =
                        kept.contains(Int64(start))
                        ? Array(written[start..<start + Self.page]) : Array(zeros[0..<Self.page])
                    #expect(page == expected, "page at \(start)")
                }
                try fileSystem.close(file)
            }
            // The same seed tears the same pages.
            #expect(Array(reports[0].keptPages.values) == Array(reports[1].keptPages.values))
        }
    }

    @Test func aSyncCoversOnlyWritesBeforeIt() throws {
        try withTemporaryDirectory { directory in
            let fileSystem = FaultInjectingFileSystem()
            let path = directory.appending("data")
            let file = try fileSystem.openFile(path, create: true)
            try Self.write(fileSystem, file, [UInt8](repeating: 0, count: 2 * Self.page), at: 0)
            try fileSystem.synchronizeData(file)
            // A write while a sync is held: the sync does not cover it.
            try Self.write(fileSystem, file, [1], at: 0)
            fileSystem.hold(.synchronizeData)
            let done = DispatchSemaphore(value: 0)
            Thread {
                try? fileSystem.synchronizeData(file)
                done.signal()
            }.start()
            #expect(fileSystem.waitUntil { _, held in held == 1 })
            try Self.write(fileSystem, file, [2], at: Self.page + 5)
            try Self.write(fileSystem, file, [3], at: 1)
            fileSystem.release(.synchronizeData)
            done.wait()
            #expect(fileSystem.calls(of: .synchronizeData).last?.outcome == .succeeded)
            // Page 1 was first written during the sync; page 0 before it and again during it: both
            // count as unsynced, and page 0 reverts to what the previous sync left.
            #expect(fileSystem.unsyncedPageCounts == [path: 2])
            try fileSystem.simulatePowerLoss()
            #expect(try fileBytes(path) == [UInt8](repeating: 0, count: 2 * Self.page))
            try fileSystem.close(file)
        }
    }

    @Test func afterAPowerLossEveryCallFailsUntilRestart() throws {
        try withTemporaryDirectory { directory in
            let fileSystem = FaultInjectingFileSystem()
            let path = directory.appending("data")
            let file = try fileSystem.openFile(path, create: true)
            try Self.write(fileSystem, file, [1, 2, 3], at: 0)
            try fileSystem.simulatePowerLoss()
            let failures: [StorageError?] = [
                storageError { try Self.write(fileSystem, file, [4], at: 0) },
                storageError { try fileSystem.synchronizeData(file) },
                storageError { _ = try fileSystem.openFile(path, create: false) },
                storageError { _ = try fileSystem.contentsOfDirectory(directory) },
            ]
            #expect(failures.map { $0?.errno } == [.ioError, .ioError, .ioError, .ioError])
            #expect(failures.map { $0?.code } == [.io, .io, .io, .io])
            fileSystem.restart()
            // Descriptors from before the loss stay dead; closing one releases it.
            #expect(storageError { try fileSystem.synchronize(file) }?.errno == .ioError)
            try fileSystem.close(file)
            let reopened = try fileSystem.openFile(path, create: false)
            try Self.write(fileSystem, reopened, [9], at: 0)
            try fileSystem.synchronize(reopened)
            try fileSystem.close(reopened)
            #expect(try fileBytes(path) == [9, 0, 0])
        }
    }

    @Test func faultsFireOnTheCallsTheyName() throws {
        try withTemporaryDirectory { directory in
            let fileSystem = FaultInjectingFileSystem()
            let file = try fileSystem.openFile(directory.appending("a"), create: true)
            let other = try fileSystem.openFile(directory.appending("b"), create: true)
            fileSystem.failCalls(
                .synchronizeData,
                with: .ioError,
                on: .nth(2),
                where: { $0.lastComponent?.string == "a" }
            )
            fileSystem.failCalls(.synchronize, with: .noSpace, on: .fromNth(2))
            var outcomes: [Bool] = []
            for _ in 0..<4 {
                outcomes.append((try? fileSystem.synchronizeData(file)) != nil)
                try fileSystem.synchronizeData(other)  // another path: never fails, not counted
            }
            #expect(outcomes == [true, false, true, true])
            try fileSystem.synchronize(file)
            let noSpace = storageError { try fileSystem.synchronize(other) }
            #expect(noSpace?.code == .noSpace)
            #expect(noSpace?.errno == .noSpace)
            #expect(storageError { try fileSystem.synchronize(file) }?.errno == .noSpace)

            let syncs = fileSystem.calls(of: .synchronizeData)
            #expect(syncs.count == 8)
            #expect(syncs.filter { $0.outcome == .failed(.ioError) }.count == 1)
            #expect(syncs[2].outcome == .failed(.ioError))
            #expect(syncs[2].path == directory.appending("a"))

            fileSystem.clearFaults()
            try fileSystem.synchronize(other)
            try fileSystem.close(file)
            try fileSystem.close(other)
        }
    }

    @Test func aWriteBudgetFailsWholeOrShort() throws {
        try withTemporaryDirectory { directory in
            for shortWrite in [false, true] {
                let fileSystem = FaultInjectingFileSystem()
                let path = directory.appending("data-\(shortWrite)")
                let file = try fileSystem.openFile(path, create: true)
                fileSystem.failWrites(afterBytes: 10, shortWrite: shortWrite)
                try Self.write(fileSystem, file, [1, 2, 3, 4], at: 0)
                let error = storageError { try Self.write(fileSystem, file, [5, 6, 7, 8, 9, 10, 11, 12], at: 4) }
                #expect(error?.code == .noSpace)
                #expect(error?.errno == .noSpace)
                // Nothing more fits.
                #expect(storageError { try Self.write(fileSystem, file, [13], at: 20) }?.errno == .noSpace)
                #expect(try fileBytes(path) == (shortWrite ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [1, 2, 3, 4]))
                try fileSystem.close(file)
            }
        }
    }

    @Test func renamesCarryDescriptorsAndUnsyncedPages() throws {
        try withTemporaryDirectory { directory in
            let fileSystem = FaultInjectingFileSystem()
            let old = directory.appending("old")
            let new = directory.appending("new")
            let file = try fileSystem.openFile(old, create: true)
            try Self.write(fileSystem, file, [UInt8](repeating: 0, count: 100), at: 0)
            try fileSystem.synchronize(file)
            try Self.write(fileSystem, file, [7, 7, 7], at: 10)
            try fileSystem.rename(old, to: new)
            try fileSystem.synchronizeData(file)
            #expect(fileSystem.calls(of: .synchronizeData).last?.path == new)
            #expect(fileSystem.unsyncedPageCounts.isEmpty)
            try Self.write(fileSystem, file, [8], at: 0)
            #expect(fileSystem.unsyncedPageCounts == [new: 1])
            try fileSystem.simulatePowerLoss()
            var expected = [UInt8](repeating: 0, count: 100)
            expected[10...12] = [7, 7, 7]
            #expect(try fileBytes(new) == expected)
            try fileSystem.close(file)
        }
    }

    @Test func heldCallsWaitForRelease() throws {
        try withTemporaryDirectory { directory in
            let fileSystem = FaultInjectingFileSystem()
            let file = try fileSystem.openFile(directory.appending("data"), create: true)
            // The first sync goes through; the second is held and fails when released.
            fileSystem.hold(.synchronizeData, on: .nth(2))
            fileSystem.failCalls(.synchronizeData, with: .ioError, on: .nth(2))
            try fileSystem.synchronizeData(file)
            let done = DispatchSemaphore(value: 0)
            let failed = Thread {
                if (try? fileSystem.synchronizeData(file)) == nil {
                    done.signal()
                }
            }
            failed.start()
            #expect(fileSystem.waitUntil { _, held in held == 1 })
            #expect(fileSystem.calls(of: .synchronizeData).map(\.outcome) == [.succeeded, .unfinished])
            #expect(!fileSystem.waitUntil(timeoutSeconds: 0.05) { calls, _ in calls.last?.outcome != .unfinished })
            fileSystem.release(.synchronizeData)
            done.wait()
            #expect(fileSystem.heldCallCount == 0)
            #expect(fileSystem.calls(of: .synchronizeData).map(\.outcome) == [.succeeded, .failed(.ioError)])
            try fileSystem.synchronizeData(file)
            try fileSystem.close(file)
        }
    }
}
