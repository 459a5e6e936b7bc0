import ArgumentParser
import TallyClient
import TallyWire

/// `tally stats`: the server's counters and gauges.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show the server's statistics: counts, latencies, journal and snapshot positions, memory.",
        discussion:
            "With --json, one object of name → value. Exit status: 0, or as for every client command (docs/CLI.md)."
    )

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await ClientSession.run(self.options) { client in
            let statistics = try await client.statistics()
            if self.options.json {
                print(JSONValue.object(statistics.map { .init($0.name, .integer($0.value)) }).serialized())
            } else {
                var table = TextTable([("statistic", .left), ("kind", .left), ("value", .right)])
                for statistic in statistics {
                    table.append([
                        statistic.name, statistic.kind == .counter ? "counter" : "gauge", String(statistic.value),
                    ])
                }
                print(
                    "server \(client.server.serverVersion), protocol \(client.server.version)"
                        + (client.server.isReadOnly ? ", read-only socket" : "")
                )
                table.print()
            }
            return ClientExitCode.success
        }
    }
}
