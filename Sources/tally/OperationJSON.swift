import TallyCore

/// One client operation of the JSON Lines format (docs/CLI.md): the operation and whether it is
/// chained to the next one in an atomic chain.
struct LinkedOperation: Hashable, Sendable {
    var operation: Operation
    var isLinked: Bool

    init(_ operation: Operation, linked: Bool = false) {
        self.operation = operation
        self.isLinked = linked
    }
}

/// The JSON form of every client operation: one object, `"op"` naming its kind, every field of
/// the operation's value types in snake case. Decoding is strict (unknown fields, wrong types and
/// inexact numbers are errors that name the field); encoding writes every field, so that what it
/// writes decodes to the same operation.
enum OperationJSON {
    /// The kinds clients send, in the order messages list them.
    static let clientKinds: [OperationKind] = [
        .createAsset, .createAccount, .setAccountStatus, .post, .hold, .capture, .increaseHold, .voidHold, .reverse,
    ]

    /// The `"op"` name of a kind: the ledger's name, except `void` for a void (`expire_hold` for the
    /// engine's expiries, which clients never send).
    static func name(of kind: OperationKind) -> String {
        kind == .voidHold ? "void" : kind.description
    }

    /// The client kind `"op"` names: its name, or `void_hold` (the ledger's own name) for a void.
    static func clientKind(named name: String) -> OperationKind? {
        switch name {
        case "create_asset": return .createAsset
        case "create_account": return .createAccount
        case "set_account_status": return .setAccountStatus
        case "post": return .post
        case "hold": return .hold
        case "capture": return .capture
        case "increase_hold": return .increaseHold
        case "void", "void_hold": return .voidHold
        case "reverse": return .reverse
        default: return nil
        }
    }

    // MARK: - Decoding

    /// The operation a JSON object describes.
    static func decode(_ value: JSONValue) throws(JSONFieldError) -> LinkedOperation {
        var fields = try JSONFields(value, path: "", what: "an operation")
        let name = try fields.required("op") { (value, path) throws(JSONFieldError) in try JSONRead.string(value, path)
        }
        let kind: OperationKind
        if let known = Self.clientKind(named: name) {
            kind = known
        } else if name == OperationKind.expireHold.description {
            throw JSONFieldError(
                path: "op",
                message:
                    "expire_hold is issued by the engine when a hold's deadline passes, never by clients (void the hold instead)"
            )
        } else {
            throw JSONFieldError(
                path: "op",
                message: "expected one of " + Self.clientKinds.map(Self.name(of:)).joined(separator: ", ")
                    + ", found \(JSONValue.string(name).serialized())"
            )
        }
        fields.what = Self.name(of: kind)
        let linked = try fields.optional("linked", JSONRead.bool) ?? false
        let operation = try Self.decode(kind, &fields)
        try fields.finish()
        return LinkedOperation(operation, linked: linked)
    }

    private static func decode(_ kind: OperationKind, _ fields: inout JSONFields) throws(JSONFieldError) -> Operation {
        switch kind {
        case .createAsset:
            return .createAsset(
                CreateAsset(
                    code: try fields.required("code", JSONRead.assetCode),
                    scale: try fields.required("scale") { (value, path) throws(JSONFieldError) in
                        try JSONRead.unsigned(value, path, as: UInt8.self)
                    }
                )
            )
        case .createAccount:
            return .createAccount(
                CreateAccount(
                    id: try fields.required("id", JSONRead.accountID),
                    asset: try fields.required("asset", JSONRead.assetCode),
                    kind: try fields.required("kind", JSONRead.accountKind),
                    normalSide: try fields.optional("normal_side", JSONRead.side),
                    merchant: try fields.optional("merchant", Self.uint64) ?? 0,
                    partner: try fields.optional("partner", Self.uint64) ?? 0,
                    flags: try fields.optional("flags", JSONRead.flags) ?? []
                )
            )
        case .setAccountStatus:
            return .setAccountStatus(
                SetAccountStatus(
                    account: try fields.required("account", JSONRead.accountID),
                    status: try fields.required("status", JSONRead.status),
                    actor: try fields.optional("actor", Self.uint64) ?? 0,
                    reason: try fields.optional("reason", Self.uint32) ?? 0
                )
            )
        case .post:
            let header = try Self.header(&fields)
            let legs = try fields.required("legs") { (value, path) throws(JSONFieldError) in
                try JSONRead.array(value, path, what: "legs", countMax: OperationBatch.EncodingLimits.legsPerPostMax) {
                    (value, path) throws(JSONFieldError) in try Self.leg(value, path)
                }
            }
            let rates =
                try fields.optional("fx_rates") { (value, path) throws(JSONFieldError) in
                    try JSONRead.array(
                        value,
                        path,
                        what: "FX rates",
                        countMax: OperationBatch.EncodingLimits.fxRatesPerPostMax
                    ) { (value, path) throws(JSONFieldError) in try Self.rate(value, path) }
                } ?? []
            return .post(header, legs: legs, fxRates: rates, references: try Self.references(&fields))
        case .hold:
            let header = try Self.header(&fields)
            let terms = HoldTerms(
                debit: try fields.required("debit", JSONRead.accountID),
                credit: try fields.required("credit", JSONRead.accountID),
                amount: try fields.required("amount", JSONRead.amount),
                timeoutSeconds: try fields.optional("timeout_seconds", Self.uint32) ?? 0
            )
            return .hold(header, terms, references: try Self.references(&fields))
        case .capture:
            let header = try Self.header(&fields)
            let terms = CaptureTerms(
                hold: try fields.required("hold", JSONRead.transactionID),
                amount: try fields.required("amount", JSONRead.amount),
                isFinal: try fields.optional("final", JSONRead.bool) ?? false
            )
            return .capture(header, terms, references: try Self.references(&fields))
        case .increaseHold:
            let header = try Self.header(&fields)
            let terms = IncreaseTerms(
                hold: try fields.required("hold", JSONRead.transactionID),
                amount: try fields.required("amount", JSONRead.amount)
            )
            return .increaseHold(header, terms, references: try Self.references(&fields))
        case .voidHold:
            let header = try Self.header(&fields)
            let hold = try fields.required("hold", JSONRead.transactionID)
            return .voidHold(header, hold: hold, references: try Self.references(&fields))
        case .reverse:
            let header = try Self.header(&fields)
            let transaction = try fields.required("transaction", JSONRead.transactionID)
            return .reverse(header, transaction: transaction, references: try Self.references(&fields))
        case .expireHold:
            preconditionFailure("expire_hold is refused before its fields are read")
        }
    }

    private static func uint64(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> UInt64 {
        try JSONRead.unsigned(value, path, as: UInt64.self)
    }

    private static func uint32(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> UInt32 {
        try JSONRead.unsigned(value, path, as: UInt32.self)
    }

    private static func header(_ fields: inout JSONFields) throws(JSONFieldError) -> TransactionHeader {
        TransactionHeader(
            key: try fields.required("key", JSONRead.key),
            type: try fields.required("type", JSONRead.transactionType),
            effectiveTime: try fields.optional("effective_time", JSONRead.timestamp) ?? .zero,
            actor: try fields.optional("actor", Self.uint64) ?? 0,
            reason: try fields.optional("reason", Self.uint32) ?? 0
        )
    }

    private static func leg(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> Leg {
        var fields = try JSONFields(value, path: path, what: "a leg")
        let leg = Leg(
            account: try fields.required("account", JSONRead.accountID),
            side: try fields.required("side", JSONRead.side),
            amount: try fields.required("amount", JSONRead.amount)
        )
        try fields.finish()
        return leg
    }

    private static func rate(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> FXRate {
        var fields = try JSONFields(value, path: path, what: "an FX rate")
        let rate = FXRate(
            base: try fields.required("base", JSONRead.assetCode),
            quote: try fields.required("quote", JSONRead.assetCode),
            numerator: try fields.required("numerator", Self.uint64),
            denominator: try fields.required("denominator", Self.uint64)
        )
        try fields.finish()
        return rate
    }

    /// `payment_id` / `provider_reference` as UTF-8 text, or `payment_id_hex` /
    /// `provider_reference_hex` as bytes in hexadecimal; at most one form of each.
    private static func references(_ fields: inout JSONFields) throws(JSONFieldError) -> ExternalReferences {
        ExternalReferences(
            paymentID: try Self.reference("payment_id", &fields),
            providerReference: try Self.reference("provider_reference", &fields)
        )
    }

    private static func reference(
        _ name: String,
        _ fields: inout JSONFields
    ) throws(JSONFieldError)
        -> ExternalReference
    {
        let text = try fields.optional(name, JSONRead.string)
        let hex = try fields.optional(name + "_hex") { (value, path) throws(JSONFieldError) in
            try JSONRead.text(value, path, LedgerText.bytes(hex:))
        }
        let bytes: [UInt8]
        switch (text, hex) {
        case (let text?, nil): bytes = Array(text.utf8)
        case (nil, let hex?): bytes = hex
        case (nil, nil): return .none
        case (.some, .some):
            throw JSONFieldError(path: fields.path(name + "_hex"), message: "give \(name) or \(name)_hex, not both")
        }
        guard bytes.count <= OperationBatch.EncodingLimits.referenceBytesMax else {
            throw JSONFieldError(
                path: fields.path(hex == nil ? name : name + "_hex"),
                message:
                    "\(bytes.count) bytes, more than the \(OperationBatch.EncodingLimits.referenceBytesMax) a request can carry (the ledger accepts \(Limits.externalReferenceBytesMax))"
            )
        }
        return ExternalReference(bytes: bytes)
    }

    // MARK: - Encoding

    /// The JSON object of `operation`, every field written (defaults too) in the form decoding reads.
    static func encode(_ linked: LinkedOperation) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("op", .string(Self.name(of: linked.operation.kind))),
            .init("linked", .bool(linked.isLinked)),
        ]
        switch linked.operation {
        case .createAsset(let body):
            members += [.init("code", .string(body.code.description)), .init("scale", .integer(body.scale))]
        case .createAccount(let body):
            members += [
                .init("id", .integer(body.id.rawValue)),
                .init("asset", .string(body.asset.description)),
                .init("kind", LedgerText.name(of: body.kind)),
                .init("normal_side", body.normalSide.map { .string($0.description) } ?? .null),
                .init("merchant", .integer(body.merchant)),
                .init("partner", .integer(body.partner)),
                .init("flags", LedgerText.json(body.flags)),
            ]
        case .setAccountStatus(let body):
            members += [
                .init("account", .integer(body.account.rawValue)),
                .init("status", .string(body.status.description)),
                .init("actor", .integer(body.actor)),
                .init("reason", .integer(body.reason)),
            ]
        case .post(let header, let legs, let rates, let references):
            members += Self.encode(header) + Self.encode(references)
            members.append(.init("legs", .array(legs.map(Self.encode))))
            members.append(.init("fx_rates", .array(rates.map(Self.encode))))
        case .hold(let header, let terms, let references):
            members += Self.encode(header) + Self.encode(references)
            members += [
                .init("debit", .integer(terms.debit.rawValue)),
                .init("credit", .integer(terms.credit.rawValue)),
                .init("amount", .string(String(terms.amount))),
                .init("timeout_seconds", .integer(terms.timeoutSeconds)),
            ]
        case .capture(let header, let terms, let references):
            members += Self.encode(header) + Self.encode(references)
            members += [
                .init("hold", .integer(terms.hold.rawValue)),
                .init("amount", .string(String(terms.amount))),
                .init("final", .bool(terms.isFinal)),
            ]
        case .increaseHold(let header, let terms, let references):
            members += Self.encode(header) + Self.encode(references)
            members += [
                .init("hold", .integer(terms.hold.rawValue)),
                .init("amount", .string(String(terms.amount))),
            ]
        case .voidHold(let header, let hold, let references):
            members += Self.encode(header) + Self.encode(references)
            members.append(.init("hold", .integer(hold.rawValue)))
        case .expireHold(let hold):
            // Never sent by clients; written for completeness (journal tools), not read back.
            members.append(.init("hold", .integer(hold.rawValue)))
        case .reverse(let header, let transaction, let references):
            members += Self.encode(header) + Self.encode(references)
            members.append(.init("transaction", .integer(transaction.rawValue)))
        }
        return .object(members)
    }

    static func encode(_ header: TransactionHeader) -> [JSONValue.Member] {
        [
            .init("key", .string(header.key.description)),
            .init("type", LedgerText.name(of: header.type)),
            .init("effective_time", .integer(header.effectiveTime.nanosecondsSinceEpoch)),
            .init("actor", .integer(header.actor)),
            .init("reason", .integer(header.reason)),
        ]
    }

    static func encode(_ leg: Leg) -> JSONValue {
        .object([
            .init("account", .integer(leg.account.rawValue)),
            .init("side", .string(leg.side.description)),
            .init("amount", .string(String(leg.amount))),
        ])
    }

    static func encode(_ rate: FXRate) -> JSONValue {
        .object([
            .init("base", .string(rate.base.description)),
            .init("quote", .string(rate.quote.description)),
            .init("numerator", .integer(rate.numerator)),
            .init("denominator", .integer(rate.denominator)),
        ])
    }

    /// Both references, each as text when its bytes are UTF-8 and in hexadecimal otherwise.
    static func encode(_ references: ExternalReferences) -> [JSONValue.Member] {
        [
            Self.encode(references.paymentID, "payment_id"),
            Self.encode(references.providerReference, "provider_reference"),
        ]
    }

    private static func encode(_ reference: ExternalReference, _ name: String) -> JSONValue.Member {
        if let text = String(validating: reference.bytes, as: UTF8.self) {
            return .init(name, .string(text))
        }
        return .init(name + "_hex", .string(LedgerText.hex(reference.bytes)))
    }
}
