import ArgumentParser
import TallyClient
import TallyCore
import TallyWire

/// `tally accounts create|show|freeze|reopen|close`.
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Create accounts, show them, freeze, reopen or close them.",
        subcommands: [
            AccountsCreateCommand.self, AccountsShowCommand.self, AccountsFreezeCommand.self,
            AccountsReopenCommand.self, AccountsCloseCommand.self,
        ]
    )
}

struct AccountsCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Open an account (its asset must exist: `tally assets create`), or many from JSON Lines.",
        discussion: """
            Creating an account again with the same fields is a no-op (ok, replay); with other fields \
            it is rejected. With --file: JSON Lines of create_account operations (docs/CLI.md). \
            Exit status: 0 created, 1 rejected, and as for every client command (docs/CLI.md).
            """
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The account id: a non-zero 64-bit integer you choose.", transform: FlagValue.account)
    var id: AccountID?

    @Option(name: .long, help: "The asset code (USD, EUR, USDC, ...).", transform: FlagValue.asset)
    var asset: AssetCode?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The kind: merchant_payable, psp_receivable, bank_cash, fee_revenue, refund_liability, chargeback_reserve, fx_gain_loss, rolling_reserve, float, suspense, or custom_<1000-65535>.",
            valueName: "kind"
        ),
        transform: FlagValue.kind
    )
    var kind: AccountKind?

    @Option(
        name: .long,
        help: "debit or credit: required for a custom kind, implied by a built-in one.",
        transform: FlagValue.side
    )
    var normalSide: Side?

    @Option(name: .long, help: "The merchant the account belongs to (0: none).")
    var merchant: UInt64 = 0

    @Option(name: .long, help: "The partner (PSP, bank, rail) the account is held with (0: none).")
    var partner: UInt64 = 0

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A balance constraint (repeatable): debits_must_not_exceed_credits or credits_must_not_exceed_debits.",
            valueName: "flag"
        ),
        transform: FlagValue.flag
    )
    var flag: [AccountFlags] = []

    @Flag(name: .long, help: "Acknowledge once applied, before it is durable.")
    var applied = false

    @OptionGroup var input: OperationFile

    func validate() throws {
        if self.input.file != nil {
            guard
                self.id == nil && self.asset == nil && self.kind == nil && self.normalSide == nil
                    && self.merchant == 0 && self.partner == 0 && self.flag.isEmpty
            else {
                throw ValidationError("--file takes every field from its lines: give no id or account options.")
            }
            return
        }
        guard self.id != nil, self.asset != nil, self.kind != nil else {
            throw ValidationError("Give the account's id, --asset and --kind (or accounts with --file).")
        }
    }

    func run() async throws {
        let acknowledgement: Acknowledgement = self.applied ? .applied : .durable
        guard let id = self.id, let asset = self.asset, let kind = self.kind else {
            try await self.input.run(
                options: self.options,
                acknowledgement: acknowledgement,
                kinds: [.createAsset, .createAccount],
                command: "accounts create"
            )
            return
        }
        let operation = Operation.createAccount(
            CreateAccount(
                id: id,
                asset: asset,
                kind: kind,
                normalSide: self.normalSide,
                merchant: self.merchant,
                partner: self.partner,
                flags: self.flag.reduce(into: AccountFlags()) { $0.formUnion($1) }
            )
        )
        try await SingleOperation.run(operation, options: self.options, acknowledgement: acknowledgement)
    }
}

struct AccountsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show accounts: definition, status and balance.",
        discussion:
            "Exit status: 0 when every account exists, 1 when one does not, and as for every client command (docs/CLI.md)."
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var read: ReadOptions

    @Argument(help: "Account ids.", transform: FlagValue.account)
    var ids: [AccountID]

    func validate() throws {
        guard !self.ids.isEmpty else { throw ValidationError("Give at least one account id.") }
    }

    func run() async throws {
        try await ClientSession.run(self.options) { client in
            let accounts = try await AccountReads.accounts(self.ids, client: client, consistency: self.read.consistency)
            if self.options.json {
                print(AccountReads.json(self.ids, accounts).serialized())
            } else {
                let format = try await AmountFormatter.load(
                    accounts.compactMap { $0?.asset },
                    client: client,
                    consistency: self.read.consistency,
                    minorUnits: self.read.minorUnits
                )
                for (id, account) in zip(self.ids, accounts) {
                    guard let account else {
                        print("account \(id): not found")
                        continue
                    }
                    var line =
                        "account \(id)  \(account.kind.name) (\(account.normalSide)-normal)  \(account.asset)  \(account.status)"
                    if account.merchant != 0 { line += "  merchant \(account.merchant)" }
                    if account.partner != 0 { line += "  partner \(account.partner)" }
                    for (name, flag) in LedgerText.flagNames where account.flags.contains(flag) {
                        line += "  \(name)"
                    }
                    print(line)
                    let balance = account.balance
                    let asset = account.asset
                    print(
                        "  posted \(format(balance.posted(on: account.normalSide), asset))  available \(format(account.available, asset))"
                    )
                    print(
                        "  debits \(format.number(balance.debitsPosted, asset)) posted, \(format.number(balance.debitsPending, asset)) pending;"
                            + " credits \(format.number(balance.creditsPosted, asset)) posted, \(format.number(balance.creditsPending, asset)) pending"
                    )
                }
            }
            return accounts.contains(nil) ? ClientExitCode.rejected : ClientExitCode.success
        }
    }
}

/// Account reads shared by `accounts show` and `balance`.
enum AccountReads {
    /// Every account of `ids`, in requests of at most the server's items per request.
    static func accounts(
        _ ids: [AccountID],
        client: TallyClient,
        consistency: ReadConsistency
    ) async throws -> [AccountInfo?] {
        let limit = client.server.limits.operationsPerRequestMax
        var accounts: [AccountInfo?] = []
        var start = 0
        while start < ids.count {
            accounts += try await client.accounts(
                Array(ids[start..<min(start + limit, ids.count)]),
                consistency: consistency
            )
            start += limit
        }
        return accounts
    }

    /// `{"accounts": [...]}`: each account's object with `"found": true`, or `{"id": N, "found": false}`.
    static func json(_ ids: [AccountID], _ accounts: [AccountInfo?]) -> JSONValue {
        LedgerValuesJSON.accounts(ids, accounts)
    }
}
