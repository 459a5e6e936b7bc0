import ArgumentParser
import TallyCore

/// `tally post`: one posted transaction from flags, or any client operations from JSON Lines.
struct PostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "post",
        abstract: "Post a balanced transaction, or submit operations of every kind from JSON Lines.",
        discussion: """
            From flags: debits first, then credits, each in the order given; amounts in minor units. \
            Without --key a random key is made and printed: give it with --key to retry safely.

              tally post --type capture --debit 2001:1250 --credit 1001:1200 --credit 4001:50

            With --file (or --file - for standard input): one JSON object per line, every client \
            operation kind (docs/CLI.md). The whole input is checked before anything is sent; then it \
            goes in requests of --batch-size operations (an atomic chain is never split), and one \
            result is printed per operation, in order.

            Exit status: 0 all applied, 1 some rejected, 2 refused by the server, 65 bad input, \
            66 unreadable file, 69 no server, 75 connection lost (docs/CLI.md).
            """
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var transaction: TransactionOptions

    @Option(
        name: .long,
        help: ArgumentHelp("A debit leg, ACCOUNT:AMOUNT in minor units (repeatable).", valueName: "account:amount"),
        transform: FlagValue.leg
    )
    var debit: [LegFlag] = []

    @Option(
        name: .long,
        help: ArgumentHelp("A credit leg, ACCOUNT:AMOUNT in minor units (repeatable).", valueName: "account:amount"),
        transform: FlagValue.leg
    )
    var credit: [LegFlag] = []

    @Option(
        name: .customLong("fx-rate"),
        help: ArgumentHelp(
            "The rate of a multi-asset post, BASE/QUOTE=NUMERATOR/DENOMINATOR minor units of QUOTE per minor unit of BASE (repeatable).",
            valueName: "rate"
        ),
        transform: FlagValue.fxRate
    )
    var fxRates: [FXRate] = []

    @OptionGroup var input: OperationFile

    func validate() throws {
        if self.input.file != nil {
            guard !self.transaction.anyGiven && self.debit.isEmpty && self.credit.isEmpty && self.fxRates.isEmpty else {
                throw ValidationError(
                    "--file takes every field from its lines: give no --key, --type, legs, rates or references."
                )
            }
            return
        }
        guard self.transaction.type != nil else {
            throw ValidationError("Missing --type: say what the transaction is (capture, settlement, payout, ...).")
        }
        guard !self.debit.isEmpty || !self.credit.isEmpty else {
            throw ValidationError("Give the legs with --debit and --credit (or operations with --file).")
        }
    }

    func run() async throws {
        if self.input.file != nil {
            try await self.input.run(
                options: self.options,
                acknowledgement: self.transaction.acknowledgement,
                command: "post"
            )
            return
        }
        let legs =
            self.debit.map { Leg.debit($0.account, $0.amount) } + self.credit.map { Leg.credit($0.account, $0.amount) }
        let operation = Operation.post(
            try self.transaction.header(defaultType: nil),
            legs: legs,
            fxRates: self.fxRates,
            references: self.transaction.references
        )
        try await SingleOperation.run(
            operation,
            options: self.options,
            acknowledgement: self.transaction.acknowledgement
        )
    }
}
