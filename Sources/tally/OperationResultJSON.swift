import TallyCore

/// The result of one submitted operation, with what the output says about where it came from.
struct SubmittedResult: Hashable, Sendable {
    /// The operation's position in the input, from 0.
    var index: Int
    /// The input line, for operations read from JSON Lines.
    var line: Int?
    var kind: OperationKind
    /// The idempotency key of a money-moving operation.
    var key: IdempotencyKey?
    var result: OperationResult
    /// The journal sequence of the request's record, and the engine time it was recorded at.
    var sequence: UInt64
    var recordedTime: Timestamp

    init(
        index: Int,
        line: Int? = nil,
        operation: Operation,
        result: OperationResult,
        sequence: UInt64,
        recordedTime: Timestamp
    ) {
        self.index = index
        self.line = line
        self.kind = operation.kind
        self.key = operation.header?.key
        self.result = result
        self.sequence = sequence
        self.recordedTime = recordedTime
    }

    /// The JSON object of docs/CLI.md, "Result objects".
    var json: JSONValue {
        .object([
            .init("index", .integer(self.index)),
            .init("line", self.line.map { .integer($0) } ?? .null),
            .init("op", .string(OperationJSON.name(of: self.kind))),
            .init("key", self.key.map { .string($0.description) } ?? .null),
            .init("code", .string(self.result.code.name)),
            .init("code_number", .integer(self.result.code.rawValue)),
            .init("detail", .integer(self.result.detail)),
            .init("replay", .bool(self.result.isReplay)),
            .init("transaction_id", .integer(self.result.transactionID.rawValue)),
            .init("sequence", .integer(self.sequence)),
            .init("recorded_time", .integer(self.recordedTime.nanosecondsSinceEpoch)),
        ])
    }

    /// One line for people: `line 3  post  ok  transaction 7`, or the rejection with its detail.
    var human: String {
        var text = self.line.map { "line \($0)  " } ?? ""
        text += OperationJSON.name(of: self.kind) + "  "
        let result = self.result
        if result.code.isOK {
            text += "ok"
            if result.transactionID.rawValue != 0 {
                text += "  transaction \(result.transactionID)"
            }
        } else {
            text += "REJECTED \(result.code.name) (\(result.code.rawValue))"
            if result.detail != 0 || Self.detailIsMeaningful(result.code) {
                text += " detail \(result.detail)"
            }
        }
        if result.isReplay {
            text += "  (replay)"
        }
        if let key = self.key, self.line == nil {
            text += "  key \(key)"
        }
        return text
    }

    /// Codes whose detail names a leg or rate even when it is 0.
    private static func detailIsMeaningful(_ code: ResultCode) -> Bool {
        switch code {
        case .accountUnknown, .accountFrozen, .accountClosed, .amountZero, .amountOverflow, .unbalanced,
            .accountsMustBeDistinct, .externalReferenceTooLong, .fxRateInvalid, .exceedsCredits, .exceedsDebits:
            return true
        default:
            return false
        }
    }
}

/// A result without the request around it: the remembered result of an idempotency record.
enum OperationResultJSON {
    static func encode(_ result: OperationResult) -> JSONValue {
        .object([
            .init("code", .string(result.code.name)),
            .init("code_number", .integer(result.code.rawValue)),
            .init("detail", .integer(result.detail)),
            .init("replay", .bool(result.isReplay)),
            .init("transaction_id", .integer(result.transactionID.rawValue)),
        ])
    }
}
