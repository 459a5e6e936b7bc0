import ArgumentParser
import TallyCore

/// `tally reverse`: posts the mirror image of a post or a capture.
struct ReverseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reverse",
        abstract: "Reverse a post or a capture: post its mirror image, linked to it (at most once).",
        discussion:
            "--type is required (refund, chargeback, adjustment, ...). Exit status: 0 reversed, 1 rejected, and as for every client command (docs/CLI.md)."
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var transaction: TransactionOptions

    @Argument(help: "The id of the transaction to reverse.", transform: FlagValue.transaction)
    var original: TransactionID

    func validate() throws {
        guard self.transaction.type != nil else {
            throw ValidationError("Missing --type: say what the reversal is (refund, chargeback, adjustment, ...).")
        }
    }

    func run() async throws {
        let operation = Operation.reverse(
            try self.transaction.header(defaultType: nil),
            transaction: self.original,
            references: self.transaction.references
        )
        try await SingleOperation.run(
            operation,
            options: self.options,
            acknowledgement: self.transaction.acknowledgement
        )
    }
}
