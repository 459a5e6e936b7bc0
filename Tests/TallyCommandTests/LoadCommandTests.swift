import Foundation
import TallyTestKit
import Testing

extension ProcessTests {
    /// `tally load`, run as an operator runs it, against a server of its own and against one shared
    /// with other traffic (which its verification must catch).
    @Suite("tally load")
    struct LoadCommandTests {
        struct Output: Decodable {
            struct Latency: Decodable {
                var p50: UInt64
                var p99: UInt64
                var p999: UInt64
                var max: UInt64
            }

            struct Verification: Decodable {
                var operationsReplayed: Int
                var resultMismatches: Int
                var accountsCompared: Int
                var accountMismatches: Int
                var aggregatesCompared: Int
                var aggregateMismatches: Int
            }

            var ok: Bool
            var postings: Int
            var seconds: Double
            var postingsPerSecond: Double
            var latencyUs: Latency
            var rejected: [String: Int]
            var errors: Int
            var verified: Bool
            var verification: Verification?
        }

        static var scenarios: URL {
            // This file is Tests/TallyCommandTests/LoadCommandTests.swift.
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("perf/scenarios")
        }

        @Test func aShortMonthAgainstItsOwnServerIsVerified() throws {
            let run = try TallyBinary.run([
                "load", "--start-server", "--scenario", Self.scenarios.appendingPathComponent("small.json").path,
                "--postings", "12000", "--connections", "3", "--batch-operations", "50", "--business-days", "30",
                "--json",
            ])
            #expect(run.status == 0, "\(run)")
            let output = try run.json(Output.self)
            #expect(output.ok)
            #expect(output.postings == 12_000)
            #expect(output.seconds > 0 && output.postingsPerSecond > 0)
            #expect(output.latencyUs.p50 > 0 && output.latencyUs.p50 <= output.latencyUs.p99)
            #expect(output.latencyUs.p99 <= output.latencyUs.p999 && output.latencyUs.p999 <= output.latencyUs.max)
            #expect(output.errors == 0)
            // A month of business time: holds expire and late captures are refused, as in production.
            #expect(!output.rejected.isEmpty, "\(output.rejected)")
            #expect(output.verified)
            let verification = try #require(output.verification)
            #expect(verification.resultMismatches == 0)
            #expect(verification.accountsCompared == 200)
            #expect(verification.accountMismatches == 0 && verification.aggregateMismatches == 0)
            #expect(verification.operationsReplayed >= 12_000)
        }

        @Test func anotherClientsTrafficIsCaughtByTheVerification() throws {
            let directory = "/tmp/tally-load-test-\(UInt32.random(in: 0...UInt32.max))"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let server = try ServerProcess(
                binary: try TallyBinary.requirePath(),
                directory: directory,
                arguments: ["--log-level", "warning", "--virtual-clock"]
            )
            defer { _ = try? server.terminate() }
            let scenario = Self.scenarios.appendingPathComponent("small.json").path
            let arguments = [
                "load", "--socket", server.socketPath, "--scenario", scenario, "--postings", "2000", "--json",
            ]
            let first = try TallyBinary.run(arguments)
            #expect(first.status == 0, "\(first)")
            #expect(try first.json(Output.self).verified)
            // The same traffic again: the server already holds the first run's state, which the
            // second run's model knows nothing of.
            let second = try TallyBinary.run(arguments)
            #expect(second.status == 1, "\(second)")
            let output = try second.json(Output.self)
            #expect(!output.verified)
            #expect(!output.ok)
            let verification = try #require(output.verification)
            #expect(verification.resultMismatches > 0 || verification.accountMismatches > 0)
        }

        @Test func aBadScenarioOrNoServerCannotRun() throws {
            let bad = FileManager.default.temporaryDirectory.appendingPathComponent(
                "scenario-\(UUID().uuidString).json"
            )
            try Data(#"{"acounts": 5}"#.utf8).write(to: bad)
            defer { try? FileManager.default.removeItem(at: bad) }
            let misspelt = try TallyBinary.run(["load", "--start-server", "--scenario", bad.path, "--json"])
            #expect(misspelt.status == 3, "\(misspelt)")
            #expect(misspelt.output.contains("unknown member"))
            let noServer = try TallyBinary.run(["load", "--socket", "/tmp/no-such-tally.sock", "--postings", "10"])
            #expect(noServer.status == 3, "\(noServer)")
            let usage = try TallyBinary.run(["load", "--connections", "0"])
            #expect(usage.status == 64, "\(usage)")
        }
    }
}
