import ArgumentParser
import Foundation
import TallyClient
import TallyWire

/// Why a client command stopped, with its exit code: printed to standard error for people and,
/// with `--json`, as one `{"error": …}` object on standard output (docs/CLI.md, "Failures").
struct ClientFailure: Error, CustomStringConvertible {
    var exit: ExitCode
    /// A stable name: `bad_input`, `no_input`, `unavailable`, `refused`, `connection_lost`,
    /// `protocol_violation`, `internal`.
    var kind: String
    var message: String
    /// For `refused`: the server's reply status.
    var status: ReplyStatus?
    /// For `bad_input`: the problems kept, and how many were found in all.
    var problems: [InputProblem] = []
    var problemCount = 0

    var description: String { self.message }

    static func badInput(_ input: OperationInput) -> ClientFailure {
        let count = input.problemCount
        return ClientFailure(
            exit: ClientExitCode.badInput,
            kind: "bad_input",
            message: "the input has \(count) bad line\(count == 1 ? "" : "s"); nothing was sent",
            problems: input.problems,
            problemCount: count
        )
    }

    static func badInput(_ problem: InputProblem) -> ClientFailure {
        ClientFailure(
            exit: ClientExitCode.badInput,
            kind: "bad_input",
            message: "the input cannot be sent; nothing was sent",
            problems: [problem],
            problemCount: 1
        )
    }

    static func noInput(_ path: String, _ reason: String) -> ClientFailure {
        ClientFailure(
            exit: ClientExitCode.noInput,
            kind: "no_input",
            message: "cannot read \(path): \(reason); nothing was sent"
        )
    }

    /// The failure a client error stands for; `connecting` when it happened before the handshake
    /// was done (then a timeout means no server answers).
    static func client(_ error: TallyClientError, socket: String, connecting: Bool) -> ClientFailure {
        switch error.code {
        case .connectFailed:
            // The client's message may end with the same question; asked once is enough.
            var cause = error.message
            for suffix in ["; is the server running?", ": is the server running?"] where cause.hasSuffix(suffix) {
                cause.removeLast(suffix.count)
            }
            return ClientFailure(
                exit: ClientExitCode.unavailable,
                kind: "unavailable",
                message: "no Tally server at \(socket): is `tally serve` running? (\(cause))"
            )
        case .timeout where connecting:
            return ClientFailure(
                exit: ClientExitCode.unavailable,
                kind: "unavailable",
                message: "no Tally server answered at \(socket) in time: is `tally serve` running? (\(error.message))"
            )
        case .server:
            return ClientFailure(
                exit: ClientExitCode.refused,
                kind: "refused",
                message: error.message,
                status: error.status
            )
        case .connectionClosed, .timeout:
            return ClientFailure(
                exit: ClientExitCode.connectionLost,
                kind: "connection_lost",
                message:
                    "\(error.message); writes in flight may or may not have been applied: resend them with the same keys to learn their results"
            )
        case .protocolViolation:
            return ClientFailure(
                exit: ClientExitCode.protocolViolation,
                kind: "protocol_violation",
                message: error.message
            )
        default:
            return ClientFailure(exit: ClientExitCode.software, kind: "internal", message: error.description)
        }
    }

    /// Writes the failure: the message (and each bad line) to standard error, and with `json`
    /// the `{"error": …}` object to standard output.
    func report(json: Bool) {
        var text = "tally: \(self.message)\n"
        for problem in self.problems {
            text += "  \(problem)\n"
        }
        if self.problemCount > self.problems.count {
            text += "  … and \(self.problemCount - self.problems.count) more\n"
        }
        FileHandle.standardError.write(Data(text.utf8))
        if json {
            print(self.json.serialized())
        }
    }

    /// The `{"error": …}` object.
    var json: JSONValue {
        var error: [JSONValue.Member] = [
            .init("kind", .string(self.kind)),
            .init("message", .string(self.message)),
            .init("exit_code", .integer(self.exit.rawValue)),
            .init("status", self.status.map { .string($0.name) } ?? .null),
        ]
        if self.kind == "bad_input" {
            error.append(.init("problems", .array(self.problems.map(\.json))))
            error.append(.init("problem_count", .integer(self.problemCount)))
        }
        return .object([.init("error", .object(error))])
    }
}
