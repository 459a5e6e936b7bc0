import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage
import TallyTestKit
import Testing

/// Golden fixtures of the on-disk formats (issue 4): data directories in the repository's top-level
/// `snapshots/` folder, one per format version, each written once by a fixed seeded workload and
/// never again, with what it must reproduce in its `expected.json` (snapshots/README.md).
///
/// Every build must read every fixture exactly: recovery from the newest snapshot, a full replay of
/// the journal (archived segments included), each snapshot on its own and a verification of the
/// journal all give the recorded digest, counts, balances and lookups. The fixtures are only ever
/// read through copies: opening a data directory takes its lock and may cut a torn tail.
@Suite("Golden fixtures")
struct GoldenFixtureTests {
    /// The fixtures the current build must read. A new format version adds its own; none is ever
    /// removed or regenerated.
    static let versions = ["v1"]

    @Test("A golden fixture's files are the ones it was written with", arguments: versions)
    func filesAreTheRecordedOnes(version: String) throws {
        let fixture = Self.fixturePath(version)
        let expected = try Self.loadExpected(fixture)
        #expect(try Self.manifest(of: fixture) == expected.files)
    }

    @Test("The current build reads a golden fixture exactly", arguments: versions)
    func readsExactly(version: String) async throws {
        let fixture = Self.fixturePath(version)
        let expected = try Self.loadExpected(fixture)
        let before = try Self.contents(of: fixture)
        #expect(before.count == expected.files.count + 1)

        let copy = ScratchDirectory("read-\(version)")
        try FileManager.default.copyItem(atPath: fixture.string, toPath: copy.path.string)
        try await Self.checkReads(copy.path, expected)

        // Nothing above touched the committed files.
        #expect(try Self.contents(of: fixture) == before)
    }

    /// Writes `snapshots/v1`. Kept so that the fixture can be explained, not to be run again: it
    /// refuses to replace an existing fixture (snapshots/README.md).
    @Test(
        .enabled(
            if: ProcessInfo.processInfo.environment["TALLY_WRITE_GOLDEN_FIXTURES"] == "1",
            "writes snapshots/v1; set TALLY_WRITE_GOLDEN_FIXTURES=1"
        )
    )
    func writeV1() async throws {
        let destination = Self.fixturePath("v1")
        try #require(
            !FileManager.default.fileExists(atPath: destination.string),
            "\(destination) exists: a fixture is never regenerated (snapshots/README.md)"
        )
        let scratch = ScratchDirectory("write-v1")
        let expected = try await GoldenFixtureV1.write(to: scratch.path)
        let copy = ScratchDirectory("check-v1")
        try FileManager.default.copyItem(atPath: scratch.path.string, toPath: copy.path.string)
        try await Self.checkReads(copy.path, expected)
        try FileManager.default.createDirectory(
            atPath: destination.removingLastComponent().string,
            withIntermediateDirectories: true
        )
        try FileManager.default.copyItem(atPath: scratch.path.string, toPath: destination.string)
        #expect(try Self.manifest(of: destination) == expected.files)
    }
}

// MARK: - What a fixture must reproduce

extension GoldenFixtureTests {
    /// `expected.json`: what the fixture's workload left, recorded when it was written.
    struct Expected: Codable, Hashable, Sendable {
        /// The ledger settings the data directory stores (`ledger.conf`).
        struct LedgerSettings: Codable, Hashable, Sendable {
            var idempotencyWindowSeconds: UInt64
            var transactionRetentionSeconds: UInt64
            var accountsMax: Int
        }

        struct Counts: Codable, Hashable, Sendable {
            var accounts: Int
            var transactions: UInt64
            var openHolds: Int
            var retainedKeys: Int
            var reversedTransactions: Int
        }

        struct Journal: Codable, Hashable, Sendable {
            var segmentBytes: Int
            /// Segment names, in log order.
            var archivedSegments: [String]
            var liveSegments: [String]
        }

        struct Snapshot: Codable, Hashable, Sendable {
            var file: String
            var sequence: UInt64
            var digest: String
            var formatVersion: UInt16
            var stateVersion: UInt16
        }

        /// Minor units, as decimal strings (they are `UInt128`).
        struct BalanceValue: Codable, Hashable, Sendable {
            var debitsPosted: String
            var creditsPosted: String
            var debitsPending: String
            var creditsPending: String

            init(_ balance: Balance) {
                self.debitsPosted = String(balance.debitsPosted)
                self.creditsPosted = String(balance.creditsPosted)
                self.debitsPending = String(balance.debitsPending)
                self.creditsPending = String(balance.creditsPending)
            }
        }

        /// What the ledger remembers under an idempotency key.
        struct Lookup: Codable, Hashable, Sendable {
            /// The key's 16 bytes in hexadecimal, in the order the client sent them.
            var key: String
            /// Why this key was picked.
            var note: String
            var code: String
            var codeNumber: UInt16
            /// Zero when the result created no transaction.
            var transaction: UInt64
        }

        /// How the workload was run and what it did (for the reader; the tests do not use it).
        struct Workload: Codable, Hashable, Sendable {
            var seed: UInt64
            var accountsTarget: Int
            var operations: Int
            var batchSize: Int
            var businessSeconds: UInt64
            var duplicateRetryRate: Double
            var reversalWeight: UInt32
            var startTimeNanoseconds: UInt64
            var batches: Int
            var postings: Int
            var replays: Int
            var expiryOperations: Int
            var flows: [String: Int]
            var results: [String: Int]
        }

        /// One file of the fixture (expected.json aside).
        struct File: Codable, Hashable, Sendable {
            var path: String
            var bytes: Int
            /// CRC-32C of the file, 8 hexadecimal digits.
            var crc32c: String
        }

        var generator: String
        var ledger: LedgerSettings
        /// The state digest (docs/LEDGER.md) after recovery, hexadecimal.
        var digest: String
        var lastSequence: UInt64
        /// Engine time of the last batch: readers open the fixture with their clock there, so that
        /// opening it journals no expiry of its own.
        var recordedTimeNanoseconds: UInt64
        var counts: Counts
        var journal: Journal
        /// Oldest first.
        var snapshots: [Snapshot]
        /// By account id.
        var balances: [String: BalanceValue]
        var lookups: [Lookup]
        var workload: Workload
        /// Sorted by path.
        var files: [File]
    }

    /// What a ledger shows of the fields `expected.json` records.
    struct Observation: Hashable, Sendable {
        var digest: String
        var recordedTimeNanoseconds: UInt64
        var counts: Expected.Counts
        var balances: [String: Expected.BalanceValue]
        var lookups: [Expected.Lookup]

        init(_ ledger: borrowing Ledger, accounts: [AccountID], lookups: [(key: IdempotencyKey, note: String)]) {
            self.digest = ledger.digest().description
            self.recordedTimeNanoseconds = ledger.recordedTime.nanosecondsSinceEpoch
            let statistics = ledger.statistics
            self.counts = Expected.Counts(
                accounts: statistics.accounts,
                transactions: statistics.transactions,
                openHolds: statistics.openHolds,
                retainedKeys: statistics.retainedKeys,
                reversedTransactions: statistics.reversedTransactions
            )
            var balances: [String: Expected.BalanceValue] = [:]
            for account in accounts {
                // An account the ledger does not know shows as missing from the map.
                if let balance = ledger.balance(of: account) {
                    balances[account.description] = Expected.BalanceValue(balance)
                }
            }
            self.balances = balances
            var found: [Expected.Lookup] = []
            for (key, note) in lookups {
                let result = ledger.idempotencyRecord(key)?.result
                found.append(
                    Expected.Lookup(
                        key: key.description,
                        note: note,
                        code: result?.code.name ?? "not_found",
                        codeNumber: result?.code.rawValue ?? UInt16.max,
                        transaction: result?.transactionID.rawValue ?? 0
                    )
                )
            }
            self.lookups = found
        }

        init(_ expected: Expected) {
            self.digest = expected.digest
            self.recordedTimeNanoseconds = expected.recordedTimeNanoseconds
            self.counts = expected.counts
            self.balances = expected.balances
            self.lookups = expected.lookups
        }
    }
}

// MARK: - Reading a fixture

extension GoldenFixtureTests {
    /// Every check of a fixture, on `copy` (a copy of it: this opens it for writing).
    static func checkReads(_ copy: FilePath, _ expected: Expected) async throws {
        let wanted = Observation(expected)
        var accountIDs: [AccountID] = []
        for text in expected.balances.keys.sorted() {
            accountIDs.append(AccountID(try #require(UInt64(text), "account id \(text)")))
        }
        var lookupKeys: [(key: IdempotencyKey, note: String)] = []
        for lookup in expected.lookups {
            lookupKeys.append((try #require(Self.key(hex: lookup.key), "key \(lookup.key)"), lookup.note))
        }
        let accounts = accountIDs
        let keys = lookupKeys
        let newest = try #require(expected.snapshots.last)
        let archived = expected.journal.archivedSegments

        // (a) Recovery from the newest snapshot plus the journal after it.
        let (engine, recovery) = try Engine.open(
            Self.readingConfiguration(copy, expected),
            clock: VirtualClock(Timestamp(nanosecondsSinceEpoch: expected.recordedTimeNanoseconds))
        )
        #expect(recovery.rejectedSnapshots.isEmpty, "\(recovery.rejectedSnapshots)")
        #expect(recovery.snapshot?.sequence == newest.sequence)
        #expect(recovery.snapshot?.digest.description == newest.digest)
        #expect(recovery.digest?.description == expected.digest)
        #expect(recovery.scan.lastSequence == expected.lastSequence)
        #expect(recovery.scan.tornTail == nil)
        #expect(recovery.recordsReplayed == expected.lastSequence - newest.sequence)
        #expect(recovery.recordsReplayed > 0, "the fixture keeps a journal tail after its newest snapshot")
        let fromSnapshot = try await engine.read { Observation($0, accounts: accounts, lookups: keys) }
        #expect(fromSnapshot == wanted)
        // Opening at the fixture's last engine time journals nothing (no expiry came due).
        #expect(engine.durableSequence == expected.lastSequence)
        try engine.close()

        // (a) The whole journal replayed from empty, archived segments included.
        var full = Self.readingConfiguration(copy, expected)
        full.useSnapshots = false
        let (replayed, replay) = try Engine.open(
            full,
            clock: VirtualClock(Timestamp(nanosecondsSinceEpoch: expected.recordedTimeNanoseconds))
        )
        #expect(replay.snapshot == nil)
        #expect(replay.digest?.description == expected.digest)
        #expect(replay.recordsReplayed == expected.lastSequence)
        #expect(replay.scan.tornTail == nil)
        #expect(replay.scan.segments.filter(\.isArchived).map(\.name) == archived)
        #expect(replay.scan.segments.filter { !$0.isArchived }.map(\.name) == expected.journal.liveSegments)
        let fromJournal = try await replayed.read { Observation($0, accounts: accounts, lookups: keys) }
        #expect(fromJournal == wanted)
        #expect(replayed.durableSequence == expected.lastSequence)
        try replayed.close()

        // (b) Each snapshot on its own, its digest recomputed.
        let settings = LedgerConfiguration(
            idempotencyWindowSeconds: expected.ledger.idempotencyWindowSeconds,
            transactionRetentionSeconds: expected.ledger.transactionRetentionSeconds,
            accountsMax: expected.ledger.accountsMax
        )
        let snapshots = copy.appending(DataDirectory.snapshotsName)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: snapshots.string).sorted()
                == expected.snapshots.map(\.file).sorted()
        )
        for snapshot in expected.snapshots {
            let (ledger, info) = try SnapshotFile.read(
                snapshots.appending(snapshot.file),
                configuration: settings,
                verifyDigest: true
            )
            #expect(info.sequence == snapshot.sequence)
            #expect(info.digest.description == snapshot.digest)
            #expect(ledger.digest().description == snapshot.digest)
            #expect(info.formatVersion == snapshot.formatVersion)
            #expect(info.stateVersion == snapshot.stateVersion)
        }

        // (c) The journal verified record by record, replayed in full and its invariants checked.
        let report = try JournalInspection.verify(dataDirectory: copy)
        #expect(report.scan.tornTail == nil)
        #expect(report.scan.lastSequence == expected.lastSequence)
        #expect(report.records == expected.lastSequence)
        #expect(report.transactions == expected.counts.transactions)
        #expect(report.digest.description == expected.digest)
        #expect(report.invariantViolations.isEmpty, "\(report.invariantViolations)")
        #expect(report.scan.segments.filter(\.isArchived).map(\.name) == archived)
    }

    /// Opens a fixture without changing what it holds: no snapshot is written (by count, by time or
    /// at close) and nothing is archived. The ledger settings come from the fixture's `ledger.conf`
    /// (the default configuration's are replaced): a digest or a snapshot read under other settings
    /// would differ.
    static func readingConfiguration(_ copy: FilePath, _ expected: Expected) -> Engine.Configuration {
        Engine.Configuration(
            dataDirectory: copy,
            journal: Journal.Configuration(segmentBytes: expected.journal.segmentBytes),
            storedSettings: .adopt,
            digestAfterRecovery: true,
            verifySnapshotDigest: true,
            snapshotEveryRecords: nil,
            snapshotIntervalNanoseconds: nil,
            archiveCoveredSegments: false,
            snapshotOnClose: false
        )
    }
}

// MARK: - Files

extension GoldenFixtureTests {
    static let expectedName = "expected.json"

    /// `snapshots/<version>` at the top of the repository.
    static func fixturePath(_ version: String) -> FilePath {
        // This file is Tests/TallyEngineTests/GoldenFixtureTests.swift.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return FilePath(root.appendingPathComponent("snapshots").appendingPathComponent(version).path)
    }

    static func loadExpected(_ fixture: FilePath) throws -> Expected {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture.appending(Self.expectedName).string))
        return try JSONDecoder().decode(Expected.self, from: data)
    }

    static func encode(_ expected: Expected) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(expected) + Data("\n".utf8)
    }

    /// The relative path of every regular file under `directory`, sorted.
    static func files(under directory: FilePath) throws -> [String] {
        let manager = FileManager.default
        guard let enumerator = manager.enumerator(atPath: directory.string) else {
            throw CocoaError(.fileReadNoSuchFile)
        }
        var files: [String] = []
        for case let path as String in enumerator {
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: directory.appending(path).string, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// Every file of a fixture but `expected.json`, with its size and checksum.
    static func manifest(of directory: FilePath) throws -> [Expected.File] {
        try Self.files(under: directory).filter { $0 != Self.expectedName }.map { path in
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.appending(path).string)))
            let checksum = String(CRC32C.checksum(bytes), radix: 16)
            return Expected.File(
                path: path,
                bytes: bytes.count,
                crc32c: String(repeating: "0", count: 8 - checksum.count) + checksum
            )
        }
    }

    /// Every file under `directory` with its bytes.
    static func contents(of directory: FilePath) throws -> [String: Data] {
        var contents: [String: Data] = [:]
        for path in try Self.files(under: directory) {
            contents[path] = try Data(contentsOf: URL(fileURLWithPath: directory.appending(path).string))
        }
        return contents
    }

    /// The key whose 16 bytes are these 32 hexadecimal digits (``IdempotencyKey/description``).
    static func key(hex: String) -> IdempotencyKey? {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return IdempotencyKey(bytes: bytes)
    }
}

// MARK: - The v1 generator

/// How `snapshots/v1` was written: the payment workload (seed 4, 200 accounts in 5 assets, 3,000
/// operations in batches of 25 over 4 days of business time, more duplicates and reversals than by
/// default) through an engine with a virtual clock, 64 KiB journal segments, a snapshot every 40
/// records keeping 2 and archiving the segments they cover, and no snapshot at close.
///
/// The snapshots are requested by the driver (awaited, after the first batch whose record is 40 or
/// more past the previous one) rather than by the engine's own count: the engine starts its
/// snapshots in the background, so the sequences they land on would depend on timing. None is taken
/// after the last batch, so the journal has a tail after the newest. A second run gives the same
/// state and the same files, though not the same bytes: the journal's group field (which records
/// were written together) and a snapshot's creation time depend on timing.
private enum GoldenFixtureV1 {
    static let seed: UInt64 = 4
    static let accounts = 200
    static let operations = 3_000
    static let batchSize = 25
    static let businessSeconds: UInt64 = 4 * 86_400
    static let snapshotEveryRecords: UInt64 = 40
    static let snapshotsRetained = 2
    static let balancesRecorded = 10

    static var ledger: LedgerConfiguration {
        // Windows other than the defaults, so that reading proves `ledger.conf` is honoured.
        LedgerConfiguration(
            idempotencyWindowSeconds: 2 * 86_400,
            transactionRetentionSeconds: 3 * 86_400,
            accountsMax: 10_000
        )
    }

    static var workload: PaymentWorkload.Configuration {
        var configuration = PaymentWorkload.Configuration.scaled(toAccounts: Self.accounts, seed: Self.seed)
        configuration.spreadBusinessTime(seconds: Self.businessSeconds, overOperations: Self.operations)
        configuration.duplicateRetryRate = 0.01
        configuration.mix.reversal = 100
        return configuration
    }

    /// The latest key of each kind of result seen, for the lookups.
    struct LookupCandidates {
        var fresh: IdempotencyKey?
        var replayed: IdempotencyKey?
        var rejected: IdempotencyKey?

        mutating func note(_ batch: OperationBatch, _ results: [OperationResult]) {
            for index in 0..<batch.count {
                guard let key = batch.operation(at: index).header?.key else { continue }
                let result = results[index]
                if result.isReplay {
                    self.replayed = key
                } else if result.code.isOK {
                    if result.transactionID.rawValue != 0 { self.fresh = key }
                } else {
                    self.rejected = key
                }
            }
        }

        var lookups: [(key: IdempotencyKey, note: String)] {
            var lookups: [(key: IdempotencyKey, note: String)] = []
            if let fresh { lookups.append((fresh, "the last operation that created a transaction")) }
            if let replayed { lookups.append((replayed, "the last duplicate retry (its original result)")) }
            if let rejected { lookups.append((rejected, "the last rejected operation")) }
            return lookups
        }
    }

    /// Writes the fixture's data directory at `directory` and returns what it must reproduce.
    static func write(to directory: FilePath) async throws -> GoldenFixtureTests.Expected {
        let workloadConfiguration = Self.workload
        let clock = VirtualClock(workloadConfiguration.startTime)
        let configuration = Engine.Configuration(
            dataDirectory: directory,
            ledger: Self.ledger,
            journal: Journal.Configuration(segmentBytes: Journal.segmentBytesMin),
            // No sweep while idle: every expiry is swept just before the batch whose time reaches it.
            expirySweepIntervalNanoseconds: 3_600 * Timestamp.nanosecondsPerSecond,
            storedSettings: .requireMatch,
            snapshotEveryRecords: nil,
            snapshotIntervalNanoseconds: nil,
            snapshotsRetained: Self.snapshotsRetained,
            archiveCoveredSegments: true,
            snapshotOnClose: false
        )
        let (engine, _) = try Engine.open(configuration, clock: clock)
        var workload = PaymentWorkload(configuration: workloadConfiguration)
        var batch = OperationBatch()
        var candidates = LookupCandidates()
        var written: [SnapshotFile.Info] = []
        var applied = 0
        var nextSnapshotAt = Self.snapshotEveryRecords
        // Batches exactly as PaymentSimulation makes them, so that it can confirm the final state.
        while !workload.isSetUp || applied < Self.operations {
            let settingUp = !workload.isSetUp
            let count = settingUp ? Self.batchSize : min(Self.batchSize, Self.operations - applied)
            let time = workload.nextBatch(into: &batch, count: count)
            clock.set(time)
            let response = try await engine.submit(batch)
            workload.observe(response.results, of: batch)
            if !settingUp {
                applied += count
                candidates.note(batch, response.results)
            }
            if response.sequence >= nextSnapshotAt && applied < Self.operations {
                written.append(try await engine.snapshot())
                nextSnapshotAt = response.sequence + Self.snapshotEveryRecords
            }
        }
        let lookups = candidates.lookups
        let chosen = try await engine.read { Self.accountsToRecord($0) }
        let observation = try await engine.read {
            GoldenFixtureTests.Observation($0, accounts: chosen, lookups: lookups)
        }
        let lastSequence = engine.durableSequence
        let status = engine.snapshotStatus
        try engine.close()
        #expect(status.failed == 0, "\(String(describing: status.lastFailure))")
        #expect(status.archivedSegments > 0)

        // The same workload on an in-memory ledger reaches the same state.
        let simulation = PaymentSimulation.run(
            PaymentSimulation.Options(
                operations: Self.operations,
                batchSize: Self.batchSize,
                workload: workloadConfiguration,
                ledger: Self.ledger
            )
        )
        #expect(simulation.digest.description == observation.digest)

        // Only the data: the lock belongs to a running process, spares are never part of the log.
        let manager = FileManager.default
        try manager.removeItem(atPath: directory.appending(DataDirectory.lockName).string)
        let journalPath = directory.appending(DataDirectory.journalName)
        for name in try manager.contentsOfDirectory(atPath: journalPath.string) where name.hasSuffix(".tmp") {
            try manager.removeItem(atPath: journalPath.appending(name).string)
        }

        let archivePath = JournalArchive.archivePath(of: journalPath)
        let archived = try manager.contentsOfDirectory(atPath: archivePath.string).compactMap {
            JournalArchive.segmentName(ofArchived: $0)
        }.sorted()
        let live = try manager.contentsOfDirectory(atPath: journalPath.string).filter {
            JournalFormat.firstSequence(ofSegmentNamed: $0) != nil
        }.sorted()
        let snapshotsPath = directory.appending(DataDirectory.snapshotsName)
        var snapshots: [GoldenFixtureTests.Expected.Snapshot] = []
        for name in try manager.contentsOfDirectory(atPath: snapshotsPath.string).sorted() {
            let info = try SnapshotFile.inspect(snapshotsPath.appending(name))
            snapshots.append(
                .init(
                    file: name,
                    sequence: info.sequence,
                    digest: info.digest.description,
                    formatVersion: info.formatVersion,
                    stateVersion: info.stateVersion
                )
            )
        }
        // The shape the fixture exists to have.
        #expect(snapshots.map(\.sequence) == written.suffix(Self.snapshotsRetained).map(\.sequence))
        try #require(snapshots.count >= 2)
        try #require(!archived.isEmpty && !live.isEmpty)
        try #require(lastSequence > snapshots.last!.sequence)
        try #require(observation.counts.openHolds > 0 && observation.counts.reversedTransactions > 0)
        try #require(simulation.replays > 0 && simulation.expiryOperations > 0)
        try #require(lookups.count == 3 && observation.lookups.allSatisfy { $0.code != "not_found" })

        let settings = Self.ledger
        var expected = GoldenFixtureTests.Expected(
            generator: "GoldenFixtureTests.writeV1 (Tests/TallyEngineTests/GoldenFixtureTests.swift)",
            ledger: .init(
                idempotencyWindowSeconds: settings.idempotencyWindowSeconds,
                transactionRetentionSeconds: settings.transactionRetentionSeconds,
                accountsMax: settings.accountsMax
            ),
            digest: observation.digest,
            lastSequence: lastSequence,
            recordedTimeNanoseconds: observation.recordedTimeNanoseconds,
            counts: observation.counts,
            journal: .init(segmentBytes: Journal.segmentBytesMin, archivedSegments: archived, liveSegments: live),
            snapshots: snapshots,
            balances: observation.balances,
            lookups: observation.lookups,
            workload: .init(
                seed: Self.seed,
                accountsTarget: Self.accounts,
                operations: Self.operations,
                batchSize: Self.batchSize,
                businessSeconds: Self.businessSeconds,
                duplicateRetryRate: workloadConfiguration.duplicateRetryRate,
                reversalWeight: workloadConfiguration.mix.reversal,
                startTimeNanoseconds: workloadConfiguration.startTime.nanosecondsSinceEpoch,
                batches: simulation.batches,
                postings: simulation.postings,
                replays: simulation.replays,
                expiryOperations: simulation.expiryOperations,
                flows: Dictionary(uniqueKeysWithValues: simulation.flowCounts.nonZero.map { ("\($0.flow)", $0.count) }),
                results: Dictionary(
                    uniqueKeysWithValues: simulation.sortedResultCounts.map { ($0.code.name, $0.count) }
                )
            ),
            files: []
        )
        expected.files = try GoldenFixtureTests.manifest(of: directory)
        try GoldenFixtureTests.encode(expected).write(
            to: URL(fileURLWithPath: directory.appending(GoldenFixtureTests.expectedName).string)
        )
        return expected
    }

    /// Up to ``balancesRecorded`` accounts with a non-zero balance, in creation order: the first few
    /// with something pending (open holds), the rest spread evenly over the others.
    static func accountsToRecord(_ ledger: borrowing Ledger) -> [AccountID] {
        let active = ledger.allAccounts.filter { $0.balance != .zero }
        let pending = active.filter { $0.balance.debitsPending != 0 || $0.balance.creditsPending != 0 }.prefix(4)
        let others = active.filter { account in !pending.contains { $0.id == account.id } }
        let wanted = min(Self.balancesRecorded - pending.count, others.count)
        let spread = (0..<wanted).map { others[$0 * others.count / wanted] }
        return (pending + spread).map(\.id)
    }
}

/// A path in the temporary folder for one test, removed with everything in it afterwards.
private final class ScratchDirectory {
    let path: FilePath

    init(_ label: String) {
        let name = "tally-golden-\(label)-\(UUID().uuidString)"
        self.path = FilePath(FileManager.default.temporaryDirectory.appendingPathComponent(name).path)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path.string)
    }
}
