import ArgumentParser

/// Exit codes of the commands that talk to a server (docs/CLI.md, "Exit codes"). Usage errors
/// exit 64 as for every command (ArgumentParser's `validationFailure`); the others follow
/// sysexits(3) where it has a fitting code.
enum ClientExitCode {
    /// Every operation was applied (`ok`, replays of `ok` included); every read found what it asked for.
    static let success = ExitCode.success
    /// At least one operation was rejected (its result says why), or a read found nothing (an
    /// unknown account, asset, hold, transaction or key).
    static let rejected = ExitCode(1)
    /// The server refused a request (`busy` after retries, `read_only`, `shutting_down`,
    /// `engine_failed`, ...): nothing of that request was done.
    static let refused = ExitCode(2)
    /// The command line is wrong (ArgumentParser's code for a failed validation).
    static let usage = ExitCode.validationFailure
    /// The input has bad lines, or an atomic chain too long for one request: nothing was sent.
    static let badInput = ExitCode(65)
    /// The input file cannot be opened or read: nothing was sent.
    static let noInput = ExitCode(66)
    /// No server answers at the socket (or it speaks no common protocol version).
    static let unavailable = ExitCode(69)
    /// A failure of this program (a request it should never have built): a bug.
    static let software = ExitCode(70)
    /// The connection closed or a reply timed out during a request: writes in flight may or may
    /// not have been applied. Resend them with the same keys to learn their results.
    static let connectionLost = ExitCode(75)
    /// The server sent something this client cannot decode.
    static let protocolViolation = ExitCode(76)
}
