import ArgumentParser
import Foundation
import TallyClient
import TallyCore
import TallyWire

/// `tally lookup`: a transaction by id, the result remembered under an idempotency key, or an open
/// hold.
struct LookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Look up a transaction by id, a result by idempotency key, or an open hold.",
        discussion: """
            Exit status: 0 found, 1 not found (or, by id, older than the in-memory retention window: \
            the journal has it), and as for every client command (docs/CLI.md).
            """
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var read: ReadOptions

    @Option(name: .long, help: "A transaction id.", transform: FlagValue.transaction)
    var id: TransactionID?

    @Option(name: .long, help: "An idempotency key: 32 hexadecimal digits or a UUID.", transform: FlagValue.key)
    var key: IdempotencyKey?

    @Option(name: .long, help: "The id of an open hold.", transform: FlagValue.transaction)
    var hold: TransactionID?

    func validate() throws {
        guard [self.id != nil, self.key != nil, self.hold != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("Give exactly one of --id, --key and --hold.")
        }
    }

    func run() async throws {
        try await ClientSession.run(self.options) { client in
            if let id = self.id {
                return try await self.transaction(id, client)
            }
            if let key = self.key {
                return try await self.record(key, client)
            }
            return try await self.openHold(self.hold!, client)
        }
    }

    private func transaction(_ id: TransactionID, _ client: TallyClient) async throws -> ExitCode {
        let lookup = try await client.transaction(id, consistency: self.read.consistency)
        if self.options.json {
            print(LedgerValuesJSON.lookup(id, lookup).serialized())
        }
        switch lookup {
        case .found(let record):
            if !self.options.json {
                try await self.printHuman(record, client)
            }
            return ClientExitCode.success
        case .notRetained:
            if !self.options.json {
                print("transaction \(id): older than the in-memory retention window (the journal has it)")
            }
            return ClientExitCode.rejected
        case .notFound:
            if !self.options.json {
                print("transaction \(id): not found")
            }
            return ClientExitCode.rejected
        }
    }

    private func record(_ key: IdempotencyKey, _ client: TallyClient) async throws -> ExitCode {
        let record = try await client.idempotencyRecord(key, consistency: self.read.consistency)
        if self.options.json {
            print(LedgerValuesJSON.idempotencyRecord(key, record).serialized())
        } else if let record {
            let result = record.result
            var line = "key \(key): \(result.code.name) (\(result.code.rawValue))"
            if result.detail != 0 { line += " detail \(result.detail)" }
            if result.transactionID.rawValue != 0 { line += ", transaction \(result.transactionID)" }
            print(line)
            if let transaction = record.transaction {
                try await self.printHuman(transaction, client)
            }
        } else {
            print("key \(key): nothing remembered (never used, or older than the idempotency window)")
        }
        return record == nil ? ClientExitCode.rejected : ClientExitCode.success
    }

    private func openHold(_ id: TransactionID, _ client: TallyClient) async throws -> ExitCode {
        let hold = try await client.holds([id], consistency: self.read.consistency).first ?? nil
        if self.options.json {
            print(LedgerValuesJSON.openHold(id, hold).serialized())
        } else if let hold {
            let accounts = try await client.accounts([hold.debit], consistency: self.read.consistency)
            let asset = accounts.first??.asset
            let format = try await AmountFormatter.load(
                asset.map { [$0] } ?? [],
                client: client,
                consistency: self.read.consistency,
                minorUnits: self.read.minorUnits
            )
            func amount(_ value: UInt128) -> String { asset.map { format(value, $0) } ?? String(value) }
            print("hold \(id)  \(hold.type.name)  debit \(hold.debit)  credit \(hold.credit)")
            print(
                "  held \(amount(hold.amount)), captured \(amount(hold.captured)), remaining \(amount(hold.remaining))"
            )
            print("  deadline " + (hold.deadline == .zero ? "none" : Self.time(hold.deadline)))
        } else {
            print("hold \(id): no open hold (never a hold, or captured, voided or expired)")
        }
        return hold == nil ? ClientExitCode.rejected : ClientExitCode.success
    }

    private func printHuman(_ record: TransactionRecord, _ client: TallyClient) async throws {
        let accounts = try await AccountReads.accounts(
            record.legs.map(\.account),
            client: client,
            consistency: self.read.consistency
        )
        let format = try await AmountFormatter.load(
            accounts.compactMap { $0?.asset },
            client: client,
            consistency: self.read.consistency,
            minorUnits: self.read.minorUnits
        )
        print("transaction \(record.id)  \(OperationJSON.name(of: record.kind))  \(record.type.name)")
        print(
            "  recorded \(Self.time(record.recordedTime))"
                + (record.effectiveTime == .zero ? "" : ", effective \(Self.time(record.effectiveTime))")
        )
        print("  key \(record.key)")
        if record.actor != 0 || record.reason != 0 {
            print("  actor \(record.actor), reason \(record.reason)")
        }
        if !record.references.paymentID.isEmpty {
            print("  payment id \(record.references.paymentID)")
        }
        if !record.references.providerReference.isEmpty {
            print("  provider reference \(record.references.providerReference)")
        }
        if record.link.rawValue != 0 {
            let verb = record.kind == .reverse ? "reverses" : "hold"
            print("  \(verb) \(record.link)")
        }
        var table = TextTable([("leg", .right), ("side", .left), ("account", .right), ("amount", .right)])
        for (index, (leg, account)) in zip(record.legs, accounts).enumerated() {
            let amount = account.map { format(leg.amount, $0.asset) } ?? String(leg.amount)
            table.append([String(index), leg.side.description, String(leg.account.rawValue), amount])
        }
        for line in table.lines {
            print("  " + line)
        }
        for rate in record.fxRates {
            print("  rate \(rate.base)/\(rate.quote) = \(rate.numerator)/\(rate.denominator)")
        }
        if record.released != 0 {
            let asset = accounts.first??.asset
            print("  released \(asset.map { format(record.released, $0) } ?? String(record.released))")
        }
        if record.deadline != .zero {
            print("  deadline \(Self.time(record.deadline))")
        }
        if record.isFinal {
            print("  final")
        }
    }

    /// ISO 8601 UTC with milliseconds, then the nanoseconds.
    static func time(_ time: Timestamp) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = Date(timeIntervalSince1970: Double(time.nanosecondsSinceEpoch) / 1e9)
        return "\(formatter.string(from: date)) (\(time.nanosecondsSinceEpoch) ns)"
    }
}
