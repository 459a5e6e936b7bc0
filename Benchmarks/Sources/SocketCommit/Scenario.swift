import CommitBenchmarkSupport

/// One measured configuration: which client, how many callers, how many operations per request and
/// how many requests in flight per connection.
struct Scenario: Sendable {
    enum Client: String, Codable, Sendable {
        /// `TallyTestKit.WireSocket`: blocking frames, no client library.
        case wire
        /// `TallyClient`, the product's async client.
        case client
    }

    enum Kind: Sendable {
        /// One caller, one single-operation request at a time (`mode` for the async client).
        case single(ClientDrivers.SingleMode)
        /// Many connections, one request each in flight.
        case concurrent(connections: Int)
        /// One connection, up to `depth` requests in flight.
        case pipelined(depth: Int)
    }

    var name: String
    var client: Client
    var kind: Kind
    var operationsPerRequest: Int

    var connections: Int {
        if case .concurrent(let connections) = self.kind { return connections }
        return 1
    }

    var depth: Int {
        if case .pipelined(let depth) = self.kind { return depth }
        return 1
    }

    /// Every scenario the goals ask for, by group: `single` (goal 1), `concurrent` (goal 2) and
    /// `batch` (goal 3).
    static func all(clients: Int, batchOperations: Int, depths: [Int]) -> [(group: String, scenario: Scenario)] {
        var list: [(String, Scenario)] = [
            ("single", Scenario(name: "single-wire", client: .wire, kind: .single(.batch), operationsPerRequest: 1)),
            (
                "single",
                Scenario(name: "single-client-op", client: .client, kind: .single(.operation), operationsPerRequest: 1)
            ),
            (
                "single",
                Scenario(name: "single-client-batch", client: .client, kind: .single(.batch), operationsPerRequest: 1)
            ),
            (
                "concurrent",
                Scenario(
                    name: "c\(clients)-client",
                    client: .client,
                    kind: .concurrent(connections: clients),
                    operationsPerRequest: 1
                )
            ),
            (
                "concurrent",
                Scenario(
                    name: "c\(clients)-wire",
                    client: .wire,
                    kind: .concurrent(connections: clients),
                    operationsPerRequest: 1
                )
            ),
        ]
        for client in [Client.wire, .client] {
            for depth in depths {
                list.append(
                    (
                        "batch",
                        Scenario(
                            name: "b\(batchOperations)-\(client.rawValue)-d\(depth)",
                            client: client,
                            kind: .pipelined(depth: depth),
                            operationsPerRequest: batchOperations
                        )
                    )
                )
            }
        }
        return list
    }
}

/// The server's own view of a scenario, from the statistics opcode at its end. Its submit latency
/// histogram covers the server's whole life (the chart, the prefill and the warmup too).
struct ServerFigures: Codable, Sendable {
    var submits: UInt64
    var operations: UInt64
    var submitLatencyP50Microseconds: UInt64
    var submitLatencyP99Microseconds: UInt64
    var submitLatencyP999Microseconds: UInt64
    var submitLatencyMaxMicroseconds: UInt64
    var busyReplies: UInt64
    var errorReplies: UInt64
    var ledgerBatches: UInt64
    var retainedKeys: UInt64
    var residentBytes: UInt64

    init(_ values: [String: UInt64]) {
        self.submits = values["server.submit.count"] ?? 0
        self.operations = values["server.operations"] ?? 0
        self.submitLatencyP50Microseconds = values["server.submit.latency_us.p50"] ?? 0
        self.submitLatencyP99Microseconds = values["server.submit.latency_us.p99"] ?? 0
        self.submitLatencyP999Microseconds = values["server.submit.latency_us.p999"] ?? 0
        self.submitLatencyMaxMicroseconds = values["server.submit.latency_us.max"] ?? 0
        self.busyReplies = values["server.replies.busy"] ?? 0
        self.errorReplies = values["server.replies.error"] ?? 0
        self.ledgerBatches = values["ledger.batches"] ?? 0
        self.retainedKeys = values["ledger.retained_keys"] ?? 0
        self.residentBytes = values["process.resident_bytes"] ?? 0
    }
}

/// One scenario's run.
struct ScenarioResult: Codable, Sendable {
    var scenario: String
    var client: Scenario.Client
    var connections: Int
    var depth: Int
    var operationsPerRequest: Int
    var requests: UInt64
    var operations: UInt64
    var seconds: Double
    var postingsPerSecond: Double
    var requestsPerSecond: Double
    /// Request latency as the caller saw it.
    var latency: LatencySummary
    var failures: UInt64
    var firstFailure: String?
    var server: ServerFigures
    var cpu: CPUShare
    var serverExitStatus: Int32

    var text: String {
        "\(self.scenario): \(format(self.postingsPerSecond, digits: 0)) postings/s, "
            + "\(format(self.requestsPerSecond, digits: 0)) requests/s; latency \(self.latency.text)\n"
            + "    server submit p50 \(self.server.submitLatencyP50Microseconds) p99 "
            + "\(self.server.submitLatencyP99Microseconds) p99.9 \(self.server.submitLatencyP999Microseconds) µs "
            + "(\(self.server.submits) submits); busy \(self.server.busyReplies), failures \(self.failures)"
            + (self.firstFailure.map { " (first: \($0))" } ?? "") + "; exit \(self.serverExitStatus)\n"
            + "    \(self.cpu.text); server CPU per posting \(format(self.serverMicrosecondsPerPosting, digits: 2)) µs"
    }

    /// The server's CPU time (all its threads) per posting answered in the window, in microseconds.
    var serverMicrosecondsPerPosting: Double {
        self.postingsPerSecond > 0 ? self.cpu.serverCores / self.postingsPerSecond * 1e6 : .nan
    }
}
