import ArgumentParser
import TallyCore

/// `tally void`: releases what remains of a hold and finishes it.
struct VoidCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "void",
        abstract: "Void a hold: release what remains of it and finish it (allowed on frozen accounts).",
        discussion:
            "--type defaults to capture. Exit status: 0 voided, 1 rejected, and as for every client command (docs/CLI.md)."
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var transaction: TransactionOptions

    @Argument(help: "The hold's id (its transaction id).", transform: FlagValue.transaction)
    var hold: TransactionID

    func run() async throws {
        let operation = Operation.voidHold(
            try self.transaction.header(defaultType: .capture),
            hold: self.hold,
            references: self.transaction.references
        )
        try await SingleOperation.run(
            operation,
            options: self.options,
            acknowledgement: self.transaction.acknowledgement
        )
    }
}
