import ArgumentParser
import TallyCore

/// `tally capture`: moves part or all of a hold from pending to posted.
struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture a hold, partly (repeatable) or finally (--final releases the rest).",
        discussion: """
            A capture of everything that remains finishes the hold too. --type defaults to capture. \
            Exit status: 0 captured, 1 rejected, and as for every client command (docs/CLI.md).
            """
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var transaction: TransactionOptions

    @Argument(help: "The hold's id (its transaction id).", transform: FlagValue.transaction)
    var hold: TransactionID

    @Option(name: .long, help: "The amount captured, in minor units.", transform: FlagValue.amount)
    var amount: UInt128

    @Flag(name: .long, help: "Release what remains after this capture and finish the hold.")
    var final = false

    func run() async throws {
        let operation = Operation.capture(
            try self.transaction.header(defaultType: .capture),
            CaptureTerms(hold: self.hold, amount: self.amount, isFinal: self.final),
            references: self.transaction.references
        )
        try await SingleOperation.run(
            operation,
            options: self.options,
            acknowledgement: self.transaction.acknowledgement
        )
    }
}
