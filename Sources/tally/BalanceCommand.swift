import ArgumentParser
import TallyClient
import TallyCore
import TallyWire

/// `tally balance`: balances of accounts, or aggregate balances by kind, asset and dimension.
struct BalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balance",
        abstract: "Show account balances, or aggregate balances by kind and asset (per merchant or partner).",
        discussion: """
              tally balance 1001 1002                                  accounts
              tally balance --aggregate --kind merchant_payable --asset USD               the total
              tally balance --aggregate --kind merchant_payable --asset USD --merchant 7  one merchant
              tally balance --aggregate --kind psp_receivable --asset EUR --by partner    a page per partner

            Exit status: 0 found, 1 when an account or aggregate does not exist (an empty page is \
            found), and as for every client command (docs/CLI.md).
            """
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var read: ReadOptions

    @Argument(help: "Account ids.", transform: FlagValue.account)
    var ids: [AccountID] = []

    @Flag(name: .long, help: "Aggregate balances of --kind and --asset instead of accounts.")
    var aggregate = false

    @Option(name: .long, help: "With --aggregate: the account kind.", transform: FlagValue.kind)
    var kind: AccountKind?

    @Option(name: .long, help: "With --aggregate: the asset code.", transform: FlagValue.asset)
    var asset: AssetCode?

    @Option(name: .long, help: "With --aggregate: the accounts of this merchant (0: those without one).")
    var merchant: UInt64?

    @Option(name: .long, help: "With --aggregate: the accounts held with this partner (0: those without one).")
    var partner: UInt64?

    @Option(name: .long, help: "With --aggregate: list one balance per merchant or per partner, in order.")
    var by: Grouping?

    @Option(name: .long, help: "With --by: the first merchant or partner of the page.")
    var start: UInt64 = 0

    @Option(name: .long, help: "With --by: entries per page.")
    var limit = 100

    @Flag(name: .long, help: "With --by: every page to the end.")
    var all = false

    enum Grouping: String, ExpressibleByArgument, CaseIterable {
        case merchant
        case partner

        var value: AggregateGrouping { self == .merchant ? .merchant : .partner }
    }

    func validate() throws {
        guard self.aggregate else {
            guard !self.ids.isEmpty else {
                throw ValidationError("Give account ids, or --aggregate with --kind and --asset.")
            }
            guard self.kind == nil && self.asset == nil && self.merchant == nil && self.partner == nil && self.by == nil
            else {
                throw ValidationError("--kind, --asset, --merchant, --partner and --by go with --aggregate.")
            }
            return
        }
        guard self.ids.isEmpty else { throw ValidationError("--aggregate takes no account ids.") }
        guard self.kind != nil, self.asset != nil else {
            throw ValidationError("--aggregate needs --kind and --asset.")
        }
        guard [self.merchant != nil, self.partner != nil, self.by != nil].filter({ $0 }).count <= 1 else {
            throw ValidationError("Give at most one of --merchant, --partner and --by.")
        }
        guard (1...WireProtocol.operationsPerRequestCeiling).contains(self.limit) else {
            throw ValidationError("--limit must be between 1 and \(WireProtocol.operationsPerRequestCeiling).")
        }
    }

    func run() async throws {
        try await ClientSession.run(self.options) { client in
            guard self.aggregate, let kind = self.kind, let asset = self.asset else {
                return try await self.accounts(client)
            }
            if let by = self.by {
                return try await self.page(client, kind: kind, asset: asset, grouping: by.value)
            }
            let dimension: AggregateDimension =
                self.merchant.map { .merchant($0) } ?? self.partner.map { .partner($0) } ?? .total
            return try await self.one(client, kind: kind, asset: asset, dimension: dimension)
        }
    }

    private func accounts(_ client: TallyClient) async throws -> ExitCode {
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
            var table = TextTable([
                ("account", .right), ("asset", .left), ("posted", .right), ("available", .right),
                ("pending debits", .right), ("pending credits", .right), ("status", .left),
            ])
            var missing: [AccountID] = []
            for (id, account) in zip(self.ids, accounts) {
                guard let account else {
                    missing.append(id)
                    continue
                }
                let asset = account.asset
                table.append([
                    String(id.rawValue), asset.description,
                    format.number(account.balance.posted(on: account.normalSide), asset),
                    format.number(account.available, asset), format.number(account.balance.debitsPending, asset),
                    format.number(account.balance.creditsPending, asset), account.status.description,
                ])
            }
            if !table.rows.isEmpty {
                table.print()
            }
            for id in missing {
                print("account \(id): not found")
            }
        }
        return accounts.contains(nil) ? ClientExitCode.rejected : ClientExitCode.success
    }

    private func one(
        _ client: TallyClient,
        kind: AccountKind,
        asset: AssetCode,
        dimension: AggregateDimension
    ) async throws -> ExitCode {
        let balance = try await client.aggregateBalance(
            kind: kind,
            asset: asset,
            dimension: dimension,
            consistency: self.read.consistency
        )
        if self.options.json {
            print(LedgerValuesJSON.aggregate(kind: kind, asset: asset, dimension, balance).serialized())
        } else {
            let scope: String
            switch dimension {
            case .total: scope = "all accounts"
            case .merchant(let merchant): scope = merchant == 0 ? "accounts without a merchant" : "merchant \(merchant)"
            case .partner(let partner): scope = partner == 0 ? "accounts without a partner" : "partner \(partner)"
            }
            guard let balance else {
                print("\(kind.name) \(asset), \(scope): no such accounts")
                return ClientExitCode.rejected
            }
            let format = try await AmountFormatter.load(
                [asset],
                client: client,
                consistency: self.read.consistency,
                minorUnits: self.read.minorUnits
            )
            var line = "\(kind.name) \(asset), \(scope):"
            if let side = kind.builtInNormalSide {
                line +=
                    " posted \(format(balance.posted(on: side), asset)), available \(format(balance.available(on: side), asset));"
            }
            print(line)
            print(
                "  debits \(format.number(balance.debitsPosted, asset)) posted, \(format.number(balance.debitsPending, asset)) pending;"
                    + " credits \(format.number(balance.creditsPosted, asset)) posted, \(format.number(balance.creditsPending, asset)) pending"
            )
        }
        return balance == nil ? ClientExitCode.rejected : ClientExitCode.success
    }

    private func page(
        _ client: TallyClient,
        kind: AccountKind,
        asset: AssetCode,
        grouping: AggregateGrouping
    ) async throws -> ExitCode {
        var entries: [AggregateEntry] = []
        var start = self.start
        var hasMore = false
        repeat {
            let page = try await client.aggregateBalances(
                kind: kind,
                asset: asset,
                grouping: grouping,
                start: start,
                limit: self.limit,
                consistency: self.read.consistency
            )
            entries += page.entries
            hasMore = page.hasMore
            guard let last = page.entries.last, last.value < UInt64.max else {
                hasMore = false
                break
            }
            start = last.value + 1
        } while self.all && hasMore
        let nextStart = hasMore ? start : nil
        if self.options.json {
            print(
                LedgerValuesJSON.page(
                    kind: kind,
                    asset: asset,
                    grouping: grouping,
                    start: self.start,
                    entries: entries,
                    nextStart: nextStart
                ).serialized()
            )
        } else {
            let format = try await AmountFormatter.load(
                [asset],
                client: client,
                consistency: self.read.consistency,
                minorUnits: self.read.minorUnits
            )
            let name = LedgerValuesJSON.grouping(grouping)
            var columns: [(String, TextTable.Alignment)] = [(name, .right)]
            if kind.builtInNormalSide != nil {
                columns += [("posted", .right), ("available", .right)]
            }
            columns += [
                ("debits posted", .right), ("credits posted", .right), ("debits pending", .right),
                ("credits pending", .right),
            ]
            var table = TextTable(columns)
            for entry in entries {
                let balance = entry.balance
                var row = [entry.value == 0 ? "none" : String(entry.value)]
                if let side = kind.builtInNormalSide {
                    row += [
                        format.number(balance.posted(on: side), asset),
                        format.number(balance.available(on: side), asset),
                    ]
                }
                row += [
                    format.number(balance.debitsPosted, asset), format.number(balance.creditsPosted, asset),
                    format.number(balance.debitsPending, asset), format.number(balance.creditsPending, asset),
                ]
                table.append(row)
            }
            print("\(kind.name) \(asset) by \(name): \(entries.count) \(entries.count == 1 ? "entry" : "entries")")
            if !entries.isEmpty {
                table.print()
            }
            if let nextStart {
                print("more: --start \(nextStart) (or --all)")
            }
        }
        return ClientExitCode.success
    }
}
