import ArgumentParser
import Foundation
import Histogram
import TallyClient
import TallyCore
import TallyTestKit
import TallyWire

/// `tally load`: realistic payment traffic against a server, with latency, throughput and a check
/// that the server's state is what its answers imply.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive a server with a realistic payment workload; report throughput and latency; verify the state.",
        discussion: """
            Each connection runs a seeded payment workload (captures with fees, authorisation holds \
            with partial captures and voids, PSP settlements with FX, payouts, refunds, \
            chargebacks with reserves, reserve holds, wrong-asset deposits to suspense, reversals, \
            adjustments) over one chart of accounts with a few hot merchants, shaped by --scenario \
            (perf/scenarios/*.json). Every result goes back to the workload, so follow-ups refer to \
            what really happened. With --start-server the command runs its own `tally serve` on a \
            fresh directory; otherwise it drives the server at --socket, which no other client may \
            write to while it runs if the state is to be verified.

            Verification replays every batch the server answered, in the server's order (the journal \
            sequence of each reply) and at the engine time it reports, through a ledger of its own: \
            every result must be the server's, and at the end every account's balance and every \
            aggregate (totals, by merchant, by partner) read back from the server must equal the \
            model's. `verified` is true only then.

            Exit status: 0 when the run finished, without errors, and verified (unless --no-verify); \
            1 otherwise; 3 when it could not run (no server, a bad scenario).
            """
    )

    @Option(name: .long, help: "The server's socket (ignored with --start-server).")
    var socket: String = "tally.sock"

    @Flag(
        name: .long,
        help: "Start a `tally serve` of its own on a fresh directory under /tmp, and stop it at the end."
    )
    var startServer = false

    @Option(
        name: .long,
        help: "A scenario file (JSON; perf/scenarios/). Default: the built-in payment mix over about 2,000 accounts."
    )
    var scenario: String?

    @Option(name: .long, help: "Workload operations to send (the chart's setup comes on top).")
    var postings: Int = 100_000

    @Option(name: .long, help: "Stop after this many seconds even if --postings were not all sent.")
    var seconds: Double?

    @Option(name: .long, help: "Connections, each with one request in flight.")
    var connections: Int = 4

    @Option(name: .long, help: "Operations per request.")
    var batchOperations: Int = 100

    @Option(
        name: .long,
        help: "Target operations per second over all connections (default: as fast as the server answers)."
    )
    var rate: Double?

    @Flag(name: .long, help: "Ask for acknowledgement when applied instead of when durable.")
    var applied = false

    @Option(name: .long, help: "Seed of the workload.")
    var seed: UInt64 = 1

    @Option(
        name: .long,
        help: "Business days the run spans on the workload's virtual clock (default: one second per operation)."
    )
    var businessDays: Double?

    @Flag(name: .long, help: "Skip the verification (and the model it keeps in memory).")
    var noVerify = false

    @Flag(name: .long, help: "Print one JSON object instead of a report.")
    var json = false

    func validate() throws {
        guard self.postings >= 1 else { throw ValidationError("--postings must be at least 1") }
        guard (1...256).contains(self.connections) else { throw ValidationError("--connections must be 1 to 256") }
        guard (1...Limits.operationsPerBatchMax).contains(self.batchOperations) else {
            throw ValidationError("--batch-operations must be 1 to \(Limits.operationsPerBatchMax)")
        }
        if let seconds = self.seconds, !(seconds > 0) { throw ValidationError("--seconds must be positive") }
        if let rate = self.rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
        if let days = self.businessDays, !(days > 0 && days <= 3_650) {
            throw ValidationError("--business-days must be more than 0 and at most 3,650")
        }
    }

    struct Output: Encodable {
        struct Latency: Encodable {
            var p50: UInt64
            var p99: UInt64
            var p999: UInt64
            var max: UInt64
            var mean: Double
        }

        var ok: Bool
        var postings: Int
        var setupOperations: Int
        var requests: Int
        var seconds: Double
        var postingsPerSecond: Double
        var connections: Int
        var batchOperations: Int
        var acknowledgement: String
        var latencyUs: Latency
        var results: [String: Int]
        var rejected: [String: Int]
        var replays: Int
        var errors: Int
        var errorExamples: [String]
        var verified: Bool
        var verification: Verification?
        var error: String?
    }

    struct Verification: Encodable {
        var operationsReplayed: Int
        var resultMismatches: Int
        var accountsCompared: Int
        var accountMismatches: Int
        var aggregatesCompared: Int
        var aggregateMismatches: Int
        var examples: [String]
    }

    func run() async throws {
        var workload: PaymentWorkload.Configuration
        do {
            workload = try (self.scenario.map { try LoadScenario.load($0) } ?? LoadScenario.builtIn).workload(
                seed: self.seed
            )
            if let days = self.businessDays {
                // Each connection's workload covers the span with its share of the operations.
                let perConnection = max(1, self.postings / self.connections)
                workload.spreadBusinessTime(seconds: UInt64(days * 86_400), overOperations: perConnection)
            }
        } catch {
            throw self.cannotRun("cannot use scenario \(self.scenario ?? "(built in)"): \(error)")
        }
        var server: ServerProcess?
        var directory: String?
        if self.startServer {
            let path = "/tmp/tally-load-\(UInt32.random(in: 0...UInt32.max))"
            do {
                let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
                server = try ServerProcess(
                    binary: binary,
                    directory: path,
                    arguments: [
                        "--log-level", "warning", "--expected-accounts", String(workload.accountCount),
                        "--virtual-clock",
                    ]
                )
                directory = path
            } catch {
                try? FileManager.default.removeItem(atPath: path)
                throw self.cannotRun("cannot start a server: \(error)")
            }
        }
        let socketPath = server?.socketPath ?? self.socket
        defer {
            if let server {
                _ = try? server.terminate()
            }
            if let directory { try? FileManager.default.removeItem(atPath: directory) }
        }
        var ledger = LedgerConfiguration()
        ledger.expectedAccounts = workload.accountCount
        let verifier = self.noVerify ? nil : LoadVerifier(configuration: ledger)
        let json = self.json
        let showProgress = isatty(STDERR_FILENO) != 0
        var progress: (@Sendable (LoadRun.Progress) -> Void)? = nil
        if showProgress || !json {
            progress = { @Sendable update in Self.printProgress(update, terminal: showProgress) }
        }
        let acknowledgement: Acknowledgement = self.applied ? .applied : .durable
        let run = LoadRun(
            options: LoadRun.Options(
                socketPath: socketPath,
                workload: workload,
                operations: self.postings,
                seconds: self.seconds,
                connections: self.connections,
                operationsPerRequest: self.batchOperations,
                rate: self.rate,
                acknowledgement: acknowledgement,
                verifier: verifier,
                progress: progress,
                progressIntervalSeconds: showProgress ? 0.5 : 5
            )
        )
        let outcome: LoadRun.Outcome
        do {
            outcome = try await run.run()
        } catch {
            throw self.cannotRun("\(error)")
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        var verification: Verification?
        var problems: [String] = []
        if let verifier {
            do {
                verification = try await Self.verify(verifier, socketPath: socketPath)
            } catch {
                problems.append("verification could not read the server: \(error)")
            }
        }
        let verified =
            verification.map {
                $0.resultMismatches == 0 && $0.accountMismatches == 0 && $0.aggregateMismatches == 0
                    && $0.accountsCompared > 0
            } ?? false
        var rejected: [String: Int] = [:]
        var results: [String: Int] = [:]
        for (code, count) in outcome.results {
            results[code.name] = count
            if !code.isOK { rejected[code.name] = count }
        }
        let latency = outcome.latency
        let output = Output(
            ok: outcome.errors == 0 && problems.isEmpty && (self.noVerify || verified),
            postings: outcome.operations,
            setupOperations: outcome.setupOperations,
            requests: outcome.requests,
            seconds: (outcome.seconds * 1_000).rounded() / 1_000,
            postingsPerSecond: outcome.seconds > 0 ? (Double(outcome.operations) / outcome.seconds).rounded() : 0,
            connections: self.connections,
            batchOperations: self.batchOperations,
            acknowledgement: self.applied ? "applied" : "durable",
            latencyUs: Output.Latency(
                p50: latency.totalCount == 0 ? 0 : latency.valueAtPercentile(50),
                p99: latency.totalCount == 0 ? 0 : latency.valueAtPercentile(99),
                p999: latency.totalCount == 0 ? 0 : latency.valueAtPercentile(99.9),
                max: latency.totalCount == 0 ? 0 : latency.maxRecorded,
                mean: latency.totalCount == 0 ? 0 : (latency.mean * 10).rounded() / 10
            ),
            results: results,
            rejected: rejected,
            replays: outcome.replays,
            errors: outcome.errors,
            errorExamples: outcome.errorExamples + problems,
            verified: verified,
            verification: verification
        )
        self.print(output)
        if !output.ok { throw ExitCode(1) }
    }

    /// Brings the model to the server's final engine time, then compares every account and
    /// aggregate the workload created.
    static func verify(_ verifier: LoadVerifier, socketPath: String) async throws -> Verification {
        let client = try await TallyClient.connect(socketPath: socketPath)
        defer { Task { await client.close() } }
        // Let the engine's own expiry sweeps settle, then take its time.
        try await Task.sleep(for: .milliseconds(250))
        let statistics = try await client.statistics()
        if let time = statistics.first(where: { $0.name == "ledger.recorded_time_ns" }) {
            verifier.sweep(through: Timestamp(nanosecondsSinceEpoch: time.value))
        }
        let (applied, mismatches, examples, unapplied) = verifier.summary
        var verification = Verification(
            operationsReplayed: applied,
            resultMismatches: mismatches + unapplied,
            accountsCompared: 0,
            accountMismatches: 0,
            aggregatesCompared: 0,
            aggregateMismatches: 0,
            examples: examples
        )
        func mismatch(_ text: String) {
            if verification.examples.count < 10 { verification.examples.append(text) }
        }
        let accounts = verifier.accounts
        var groups = Set<Group>()
        var start = 0
        while start < accounts.count {
            let page = Array(accounts[start..<min(accounts.count, start + 4_096)])
            start += page.count
            let server = try await client.balances(page)
            let infos = try await client.accounts(page)
            for (index, id) in page.enumerated() {
                let model = verifier.read { $0.balance(of: id) }
                verification.accountsCompared += 1
                if server[index] != model {
                    verification.accountMismatches += 1
                    mismatch(
                        "account \(id.rawValue): the server has \(String(describing: server[index])), the model \(String(describing: model))"
                    )
                }
                if let info = infos[index] {
                    groups.insert(Group(kind: info.kind, asset: info.asset))
                }
            }
        }
        for group in groups.sorted(by: { "\($0.kind)\($0.asset)" < "\($1.kind)\($1.asset)" }) {
            let total = try await client.aggregateBalance(kind: group.kind, asset: group.asset, dimension: .total)
            let modelTotal = verifier.read { $0.aggregateBalance(kind: group.kind, asset: group.asset, .total) }
            verification.aggregatesCompared += 1
            if total != modelTotal {
                verification.aggregateMismatches += 1
                mismatch(
                    "aggregate \(group.kind) \(group.asset): the server has \(String(describing: total)), the model \(String(describing: modelTotal))"
                )
            }
            for grouping in [AggregateGrouping.merchant, .partner] {
                var from: UInt64 = 0
                while true {
                    let page = try await client.aggregateBalances(
                        kind: group.kind,
                        asset: group.asset,
                        grouping: grouping,
                        start: from,
                        limit: 4_096
                    )
                    let model = verifier.read {
                        $0.aggregateBalances(
                            kind: group.kind,
                            asset: group.asset,
                            by: grouping,
                            start: from,
                            limit: 4_096
                        )
                    }
                    let serverEntries = page.entries.map { "\($0.value):\($0.balance)" }
                    let modelEntries = model.entries.map { "\($0.value):\($0.balance)" }
                    verification.aggregatesCompared += page.entries.count
                    if serverEntries != modelEntries || page.hasMore != model.hasMore {
                        verification.aggregateMismatches += 1
                        mismatch("aggregates \(group.kind) \(group.asset) by \(grouping) from \(from) differ")
                        break
                    }
                    guard page.hasMore, let last = page.entries.last else { break }
                    from = last.value + 1
                }
            }
        }
        return verification
    }

    struct Group: Hashable {
        var kind: AccountKind
        var asset: AssetCode
    }

    static func printProgress(_ progress: LoadRun.Progress, terminal: Bool) {
        let done = min(progress.operations, progress.target)
        let remaining =
            progress.operationsPerSecond > 0 ? Double(progress.target - done) / progress.operationsPerSecond : 0
        let line = String(
            format: "load: %d/%d postings, %.0f/s, p50 %d µs, p99 %d µs, %d errors, %.1f s elapsed, %.0f s left",
            done,
            progress.target,
            progress.operationsPerSecond,
            progress.p50Microseconds,
            progress.p99Microseconds,
            progress.errors,
            progress.elapsedSeconds,
            remaining
        )
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    private func print(_ output: Output) {
        if self.json {
            JSONOutput.print(output)
            return
        }
        Swift.print(
            "postings: \(output.postings) in \(output.requests) requests over \(output.connections) connections, \(output.seconds) s: \(Int(output.postingsPerSecond)) postings/s (\(output.acknowledgement))"
        )
        let latency = output.latencyUs
        Swift.print(
            "latency per request: p50 \(latency.p50) µs, p99 \(latency.p99) µs, p99.9 \(latency.p999) µs, max \(latency.max) µs"
        )
        if !output.rejected.isEmpty {
            Swift.print(
                "rejected: "
                    + output.rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            )
        }
        Swift.print("replays: \(output.replays); errors: \(output.errors)")
        for example in output.errorExamples { Swift.print("  error: \(example)") }
        if let verification = output.verification {
            Swift.print(
                "verified: \(output.verified) (\(verification.operationsReplayed) operations replayed, \(verification.resultMismatches) results differ; \(verification.accountsCompared) accounts, \(verification.accountMismatches) differ; \(verification.aggregatesCompared) aggregates, \(verification.aggregateMismatches) differ)"
            )
            for example in verification.examples { Swift.print("  mismatch: \(example)") }
        } else {
            Swift.print("verified: false (not checked)")
        }
    }

    private func cannotRun(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("tally: \(message)\n".utf8))
        if self.json {
            Swift.print("{\"error\":\(JSONValue.string(message).serialized()),\"ok\":false,\"verified\":false}")
        }
        return ExitCode(3)
    }
}

extension LoadScenario {
    /// The workload's defaults.
    static let builtIn: LoadScenario = try! JSONDecoder().decode(LoadScenario.self, from: Data("{}".utf8))
}
