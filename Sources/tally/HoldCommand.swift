import ArgumentParser
import TallyCore

/// `tally hold`: reserves an amount as pending between two accounts of one asset.
struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place a hold: reserve an amount as pending, to capture, increase or void later.",
        discussion: """
            The hold's id is its transaction id (printed). --type defaults to capture (a card \
            authorisation). Exit status: 0 placed, 1 rejected, and as for every client command \
            (docs/CLI.md).
            """
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var transaction: TransactionOptions

    @Option(name: .long, help: "The account debited (pending).", transform: FlagValue.account)
    var debit: AccountID

    @Option(name: .long, help: "The account credited (pending).", transform: FlagValue.account)
    var credit: AccountID

    @Option(name: .long, help: "The amount held, in minor units.", transform: FlagValue.amount)
    var amount: UInt128

    @Option(name: .long, help: "Seconds of engine time until the hold expires (0: never; at most 10 years).")
    var timeoutSeconds: UInt32 = 0

    func run() async throws {
        let terms = HoldTerms(
            debit: self.debit,
            credit: self.credit,
            amount: self.amount,
            timeoutSeconds: self.timeoutSeconds
        )
        let operation = Operation.hold(
            try self.transaction.header(defaultType: .capture),
            terms,
            references: self.transaction.references
        )
        try await SingleOperation.run(
            operation,
            options: self.options,
            acknowledgement: self.transaction.acknowledgement
        )
    }
}
