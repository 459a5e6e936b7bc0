import TallyCore
import TallyWire

/// The JSON forms of what reads return (docs/CLI.md, "Read objects"). Amounts are decimal strings
/// of minor units, ids and times integers, names snake case.
enum LedgerValuesJSON {
    static func amount(_ amount: UInt128) -> JSONValue {
        .string(String(amount))
    }

    /// A signed amount: a decimal string with `-` when negative.
    static func amount(_ amount: SignedAmount) -> JSONValue {
        .string(amount.description)
    }

    static func balance(_ balance: Balance) -> JSONValue {
        .object([
            .init("debits_posted", Self.amount(balance.debitsPosted)),
            .init("credits_posted", Self.amount(balance.creditsPosted)),
            .init("debits_pending", Self.amount(balance.debitsPending)),
            .init("credits_pending", Self.amount(balance.creditsPending)),
        ])
    }

    /// An account: its definition, status, balance, and the posted and available balances on its
    /// normal side.
    static func account(_ account: AccountInfo) -> JSONValue {
        .object([
            .init("id", .integer(account.id.rawValue)),
            .init("asset", .string(account.asset.description)),
            .init("kind", LedgerText.name(of: account.kind)),
            .init("normal_side", .string(account.normalSide.description)),
            .init("merchant", .integer(account.merchant)),
            .init("partner", .integer(account.partner)),
            .init("flags", LedgerText.json(account.flags)),
            .init("status", .string(account.status.description)),
            .init("balance", Self.balance(account.balance)),
            .init("posted", Self.amount(account.balance.posted(on: account.normalSide))),
            .init("available", Self.amount(account.available)),
        ])
    }

    static func asset(_ asset: AssetInfo) -> JSONValue {
        .object([
            .init("code", .string(asset.code.description)),
            .init("scale", .integer(asset.scale)),
            .init("totals", Self.balance(asset.totals)),
        ])
    }

    static func hold(_ hold: HoldInfo) -> JSONValue {
        .object([
            .init("id", .integer(hold.id.rawValue)),
            .init("debit", .integer(hold.debit.rawValue)),
            .init("credit", .integer(hold.credit.rawValue)),
            .init("type", LedgerText.name(of: hold.type)),
            .init("amount", Self.amount(hold.amount)),
            .init("captured", Self.amount(hold.captured)),
            .init("remaining", Self.amount(hold.remaining)),
            .init("deadline", .integer(hold.deadline.nanosecondsSinceEpoch)),
        ])
    }

    static func transaction(_ record: TransactionRecord) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("id", .integer(record.id.rawValue)),
            .init("op", .string(OperationJSON.name(of: record.kind))),
            .init("type", LedgerText.name(of: record.type)),
            .init("key", .string(record.key.description)),
            .init("legs", .array(record.legs.map(OperationJSON.encode))),
            .init("fx_rates", .array(record.fxRates.map(OperationJSON.encode))),
            .init("effective_time", .integer(record.effectiveTime.nanosecondsSinceEpoch)),
            .init("recorded_time", .integer(record.recordedTime.nanosecondsSinceEpoch)),
            .init("actor", .integer(record.actor)),
            .init("reason", .integer(record.reason)),
            .init("link", .integer(record.link.rawValue)),
            .init("released", Self.amount(record.released)),
            .init("deadline", .integer(record.deadline.nanosecondsSinceEpoch)),
            .init("final", .bool(record.isFinal)),
        ]
        members += OperationJSON.encode(record.references)
        return .object(members)
    }

    /// `status` is `found`, `not_retained` or `not_found`; `transaction` is the record or null.
    static func lookup(_ id: TransactionID, _ lookup: TransactionLookup) -> JSONValue {
        let status: String
        var transaction = JSONValue.null
        switch lookup {
        case .found(let record):
            status = "found"
            transaction = Self.transaction(record)
        case .notRetained:
            status = "not_retained"
        case .notFound:
            status = "not_found"
        }
        return .object([
            .init("id", .integer(id.rawValue)),
            .init("status", .string(status)),
            .init("transaction", transaction),
        ])
    }

    /// `found` false when no result is remembered under the key (never used, or dropped after the
    /// idempotency window).
    static func idempotencyRecord(_ key: IdempotencyKey, _ record: IdempotencyRecord?) -> JSONValue {
        .object([
            .init("key", .string(key.description)),
            .init("found", .bool(record != nil)),
            .init("result", record.map { OperationResultJSON.encode($0.result) } ?? .null),
            .init("transaction", record?.transaction.map(Self.transaction) ?? .null),
        ])
    }

    static func dimension(_ dimension: AggregateDimension) -> [JSONValue.Member] {
        switch dimension {
        case .total:
            return [.init("dimension", .string("total")), .init("value", .null)]
        case .merchant(let merchant):
            return [.init("dimension", .string("merchant")), .init("value", .integer(merchant))]
        case .partner(let partner):
            return [.init("dimension", .string("partner")), .init("value", .integer(partner))]
        }
    }

    /// One aggregate balance; `found` false (and a zero balance) when no account of the kind, asset
    /// and dimension exists.
    static func aggregate(
        kind: AccountKind,
        asset: AssetCode,
        _ dimension: AggregateDimension,
        _ balance: Balance?
    )
        -> JSONValue
    {
        .object(
            [
                .init("kind", LedgerText.name(of: kind)),
                .init("asset", .string(asset.description)),
                .init("found", .bool(balance != nil)),
                .init("balance", Self.balance(balance ?? .zero)),
            ] + Self.dimension(dimension)
        )
    }

    static func grouping(_ grouping: AggregateGrouping) -> String {
        switch grouping {
        case .merchant: return "merchant"
        case .partner: return "partner"
        }
    }

    static func entry(_ entry: AggregateEntry) -> JSONValue {
        .object([.init("value", .integer(entry.value)), .init("balance", Self.balance(entry.balance))])
    }

    /// `{"accounts": [...]}`: each account's object with `"found": true`, or `{"id": N, "found": false}`.
    static func accounts(_ ids: [AccountID], _ accounts: [AccountInfo?]) -> JSONValue {
        .object([
            .init(
                "accounts",
                .array(
                    zip(ids, accounts).map { id, account in
                        guard let account else {
                            return .object([.init("id", .integer(id.rawValue)), .init("found", .bool(false))])
                        }
                        return Self.adding(.init("found", .bool(true)), to: Self.account(account))
                    }
                )
            )
        ])
    }

    /// `{"assets": [...]}`: each asset's object with `"found": true`, or `{"code": C, "found": false}`.
    static func assets(_ codes: [AssetCode], _ assets: [AssetInfo?]) -> JSONValue {
        .object([
            .init(
                "assets",
                .array(
                    zip(codes, assets).map { code, asset in
                        guard let asset else {
                            return .object([.init("code", .string(code.description)), .init("found", .bool(false))])
                        }
                        return Self.adding(.init("found", .bool(true)), to: Self.asset(asset))
                    }
                )
            )
        ])
    }

    /// A page of aggregate balances; `next_start` null when no entries follow.
    static func page(
        kind: AccountKind,
        asset: AssetCode,
        grouping: AggregateGrouping,
        start: UInt64,
        entries: [AggregateEntry],
        nextStart: UInt64?
    ) -> JSONValue {
        .object([
            .init("kind", LedgerText.name(of: kind)),
            .init("asset", .string(asset.description)),
            .init("grouping", .string(Self.grouping(grouping))),
            .init("start", .integer(start)),
            .init("entries", .array(entries.map(Self.entry))),
            .init("has_more", .bool(nextStart != nil)),
            .init("next_start", nextStart.map { .integer($0) } ?? .null),
        ])
    }

    /// `lookup --hold`: `{"id", "found", "hold"}`.
    static func openHold(_ id: TransactionID, _ hold: HoldInfo?) -> JSONValue {
        .object([
            .init("id", .integer(id.rawValue)),
            .init("found", .bool(hold != nil)),
            .init("hold", hold.map(Self.hold) ?? .null),
        ])
    }

    private static func adding(_ member: JSONValue.Member, to object: JSONValue) -> JSONValue {
        guard case .object(let members) = object else { preconditionFailure("not an object") }
        return .object(members + [member])
    }
}
