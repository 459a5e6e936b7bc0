/// What one operation produced.
public struct OperationResult: Hashable, Sendable, CustomStringConvertible {
    /// `ok` or the rejection.
    public var code: ResultCode
    /// The transaction the operation created (or, on a replay, had created); zero when none.
    public var transactionID: TransactionID
    /// Where the rule broke: a leg index, a rate index, or 0. Its meaning per code is in
    /// docs/RESULT_CODES.md.
    public var detail: UInt16
    /// True when this is the remembered result of an earlier operation with the same idempotency
    /// key and the same content: nothing was applied this time.
    public var isReplay: Bool

    @inlinable
    public init(code: ResultCode, transactionID: TransactionID = 0, detail: UInt16 = 0, isReplay: Bool = false) {
        self.code = code
        self.transactionID = transactionID
        self.detail = detail
        self.isReplay = isReplay
    }

    @inlinable
    public static func ok(_ transactionID: TransactionID = 0) -> OperationResult {
        OperationResult(code: .ok, transactionID: transactionID)
    }

    @inlinable
    public static func rejected(_ code: ResultCode, detail: Int = 0) -> OperationResult {
        OperationResult(code: code, detail: UInt16(truncatingIfNeeded: detail))
    }

    public var description: String {
        var text = self.code.name
        if self.transactionID.rawValue != 0 { text += " tx=\(self.transactionID)" }
        if self.detail != 0 { text += " detail=\(self.detail)" }
        if self.isReplay { text += " (replay)" }
        return text
    }
}
