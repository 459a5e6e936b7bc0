import Foundation
import Testing

extension ProcessTests {
    /// `tally drill`, run as an operator runs it: a short drill against a real server it starts
    /// and kills, and the offline check on copies of the golden fixture, sound and damaged.
    @Suite("tally drill")
    struct DrillCommandTests {
        struct Output: Decodable {
            struct Percentiles: Decodable {
                var count: Int
                var p50: Double
                var p99: Double
                var max: Double
            }

            var mode: String
            var ok: Bool
            var dataDirectory: String
            var crashes: Int?
            var killsDuringSnapshot: Int?
            var acknowledged: Int?
            var acknowledgedLost: Int?
            var recoveryMs: Percentiles?
            var serverExitStatus: Int32?
            var digestMatch: Bool
            var digest: String?
            var invariantsOk: Bool
            var records: UInt64
            var snapshotSequence: UInt64?
            var snapshotsVerified: Int
            var problems: [String]
        }

        static var fixture: URL {
            // This file is Tests/TallyCommandTests/DrillCommandTests.swift.
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("snapshots/v1")
        }

        static func expectedDigest() throws -> String {
            let data = try Data(contentsOf: Self.fixture.appendingPathComponent("expected.json"))
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            return try #require(object?["digest"] as? String)
        }

        /// Every file under `directory` with its bytes, to prove a command left them alone.
        static func contents(of directory: URL) throws -> [String: Data] {
            var files: [String: Data] = [:]
            let enumerator = FileManager.default.enumerator(
                at: directory,
                includingPropertiesForKeys: [.isRegularFileKey]
            )
            while let url = enumerator?.nextObject() as? URL {
                guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
                files[url.path] = try Data(contentsOf: url)
            }
            return files
        }

        static func copyOfFixture() throws -> URL {
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent(
                "tally-drill-test-\(UUID().uuidString)"
            )
            try FileManager.default.copyItem(at: Self.fixture, to: copy)
            return copy
        }

        @Test func aShortDrillLosesNothingAndRecoversTheSameState() throws {
            let run = try TallyBinary.run(["drill", "--crashes", "3", "--seed", "11", "--json"])
            #expect(run.status == 0, "\(run)")
            let output = try run.json(Output.self)
            #expect(output.mode == "drill")
            #expect(output.ok)
            #expect(output.crashes == 3)
            #expect((output.acknowledged ?? 0) > 0, "the submitters had operations acknowledged")
            #expect(output.acknowledgedLost == 0)
            #expect(output.digestMatch)
            #expect(output.invariantsOk)
            #expect(output.problems.isEmpty)
            // Three restarts after the kills and the first start.
            #expect(output.recoveryMs?.count == 4)
            #expect((output.recoveryMs?.p50 ?? 0) > 0)
            #expect(output.serverExitStatus == 0)
            // The final state was recovered from a snapshot plus the journal after it.
            let snapshot = try #require(output.snapshotSequence)
            #expect(snapshot < output.records)
            #expect(output.snapshotsVerified >= 1)
            // A passing drill cleans up after itself.
            #expect(!FileManager.default.fileExists(atPath: output.dataDirectory))
        }

        @Test func offlineChecksACopyAndLeavesTheOriginalAlone() throws {
            let original = try Self.copyOfFixture()
            defer { try? FileManager.default.removeItem(at: original) }
            let before = try Self.contents(of: original)
            let run = try TallyBinary.run(["drill", "--offline", "--data-directory", original.path, "--json"])
            #expect(run.status == 0, "\(run)")
            let output = try run.json(Output.self)
            #expect(output.mode == "offline")
            #expect(output.ok)
            #expect(output.digestMatch)
            #expect(output.invariantsOk)
            #expect(output.digest == (try Self.expectedDigest()))
            #expect(output.snapshotsVerified == 2)
            #expect(output.snapshotSequence != nil)
            #expect(try Self.contents(of: original) == before, "the original directory was changed")
        }

        @Test func offlineFindsDamageInTheMiddleOfTheJournal() throws {
            let original = try Self.copyOfFixture()
            defer { try? FileManager.default.removeItem(at: original) }
            // A flipped byte inside the first live segment's first record: not a torn tail.
            let segment = original.appendingPathComponent("journal/00000000000000000120.journal")
            var bytes = try Data(contentsOf: segment)
            bytes[64 + 30] ^= 0x5a
            try bytes.write(to: segment)
            let run = try TallyBinary.run(["drill", "--offline", "--data-directory", original.path, "--json"])
            #expect(run.status == 1, "\(run)")
            let output = try run.json(Output.self)
            #expect(!output.ok)
            #expect(!output.digestMatch)
            #expect(output.problems.contains { $0.contains("00000000000000000120.journal") }, "\(output.problems)")
        }

        @Test func usageAndMissingDirectoriesAreRefused() throws {
            let missing = try TallyBinary.run([
                "drill", "--offline", "--data-directory", "/nonexistent/tally", "--json",
            ])
            #expect(missing.status == 3, "\(missing)")
            #expect(try missing.json(Output.self).ok == false)
            let usage = try TallyBinary.run(["drill", "--offline"])
            #expect(usage.status == 64, "\(usage)")
            let both = try TallyBinary.run(["drill", "--data-directory", "/tmp/x"])
            #expect(both.status == 64, "\(both)")
        }
    }
}
