import ArgumentParser

/// The options of every command that talks to a server.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "The server's Unix socket (the `--socket` of `tally serve`).")
    var socket = "tally.sock"

    @Option(name: .long, help: "Seconds to wait for connecting and for each reply.")
    var timeout: Double = 30

    @Flag(name: .long, help: "Print JSON (docs/CLI.md) instead of text.")
    var json = false

    func validate() throws {
        guard self.timeout > 0 && self.timeout <= 86_400 else {
            throw ValidationError("--timeout must be more than 0 and at most 86400 seconds.")
        }
    }

    var timeoutDuration: Duration {
        .nanoseconds(Int64(self.timeout * 1e9))
    }
}
