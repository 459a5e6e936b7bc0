import TallyCore

/// Why a request is ``ReplyStatus/malformed``, carried in its ``ErrorReply`` beside the byte offset
/// it names. 0 for every other status.
///
/// Numbers are stable; new reasons get new numbers. The `batch_*` reasons are the operation
/// batch decoder's (``TallyCore/OperationBatch/DecodingError``), with offsets from the start of
/// the frame.
public struct MalformedReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Not malformed (every status but ``ReplyStatus/malformed``).
    public static let none = MalformedReason(rawValue: 0)

    // The frame header.
    public static let badMagic = MalformedReason(rawValue: 1)
    public static let lengthTooSmall = MalformedReason(rawValue: 2)
    public static let requestIDZero = MalformedReason(rawValue: 3)
    public static let statusNotZero = MalformedReason(rawValue: 4)
    public static let flagsInvalid = MalformedReason(rawValue: 5)

    // Payloads.
    public static let truncated = MalformedReason(rawValue: 10)
    public static let trailingBytes = MalformedReason(rawValue: 11)
    public static let countOutOfRange = MalformedReason(rawValue: 12)
    public static let valueOutOfRange = MalformedReason(rawValue: 13)
    public static let lengthOutOfRange = MalformedReason(rawValue: 14)
    public static let textInvalid = MalformedReason(rawValue: 15)

    // The operation batch of a submit.
    public static let batchTruncated = MalformedReason(rawValue: 20)
    public static let batchVersionUnsupported = MalformedReason(rawValue: 21)
    public static let batchUnknownOperationKind = MalformedReason(rawValue: 22)
    public static let batchOperationFlagsInvalid = MalformedReason(rawValue: 23)
    public static let batchSideInvalid = MalformedReason(rawValue: 24)
    public static let batchNormalSideInvalid = MalformedReason(rawValue: 25)
    public static let batchAccountStatusInvalid = MalformedReason(rawValue: 26)
    public static let batchTooManyLegs = MalformedReason(rawValue: 27)
    public static let batchTooManyFXRates = MalformedReason(rawValue: 28)
    public static let batchReferenceTooLong = MalformedReason(rawValue: 29)
    public static let batchTrailingBytes = MalformedReason(rawValue: 30)

    /// The documentation of one reason.
    public struct Info: Sendable {
        public var reason: MalformedReason
        public var name: String
        /// What the offset names, and when.
        public var meaning: String
    }

    /// Every reason, in number order (docs/PROTOCOL.md's table; a test keeps them equal).
    public static let all: [Info] = [
        Info(reason: .none, name: "none", meaning: "Not malformed: every status but `malformed`."),
        Info(
            reason: .badMagic,
            name: "bad_magic",
            meaning: "Bytes 4-5 of a frame are not `54 4c`. Offset 4; request id 0; the server closes."
        ),
        Info(
            reason: .lengthTooSmall,
            name: "length_too_small",
            meaning: "The frame length is below 20, the header's size. Offset 0; request id 0; the server closes."
        ),
        Info(reason: .requestIDZero, name: "request_id_zero", meaning: "A request's id is 0. Offset 8."),
        Info(reason: .statusNotZero, name: "status_not_zero", meaning: "A request's status field is not 0. Offset 16."),
        Info(
            reason: .flagsInvalid,
            name: "flags_invalid",
            meaning: "A flag bit that is not defined is set, or bit 0 on an opcode that has no mode. Offset 18."
        ),
        Info(
            reason: .truncated,
            name: "truncated",
            meaning: "The payload ends inside a field (or a list); the offset is where that field starts."
        ),
        Info(
            reason: .trailingBytes,
            name: "trailing_bytes",
            meaning: "Bytes follow the payload's last field; the offset is the first of them."
        ),
        Info(
            reason: .countOutOfRange,
            name: "count_out_of_range",
            meaning:
                "A count is 0 where at least one item is needed, or above its protocol ceiling; the offset is the count's."
        ),
        Info(
            reason: .valueOutOfRange,
            name: "value_out_of_range",
            meaning:
                "A field holds a value its type does not define (an enumeration, a flag byte, a reserved byte that is not zero); the offset is the field's."
        ),
        Info(
            reason: .lengthOutOfRange,
            name: "length_out_of_range",
            meaning: "A text's length is above its maximum; the offset is the length's."
        ),
        Info(
            reason: .textInvalid,
            name: "text_invalid",
            meaning:
                "A text is not valid UTF-8, or a name uses characters outside its alphabet; the offset is the text's first byte."
        ),
        Info(
            reason: .batchTruncated,
            name: "batch_truncated",
            meaning:
                "The batch ends inside a part (header, operation, reference, legs, rates) that starts at the offset."
        ),
        Info(
            reason: .batchVersionUnsupported,
            name: "batch_version_unsupported",
            meaning: "The batch encoding's version is not 1. Offset 20."
        ),
        Info(
            reason: .batchUnknownOperationKind,
            name: "batch_unknown_operation_kind",
            meaning: "An operation kind is not 1 to 10."
        ),
        Info(
            reason: .batchOperationFlagsInvalid,
            name: "batch_operation_flags_invalid",
            meaning:
                "An operation's flags byte sets an undefined bit, or the final bit on an operation that is not a capture."
        ),
        Info(reason: .batchSideInvalid, name: "batch_side_invalid", meaning: "A leg's side is not 1 or 2."),
        Info(
            reason: .batchNormalSideInvalid,
            name: "batch_normal_side_invalid",
            meaning: "An account's normal side is not 0, 1 or 2."
        ),
        Info(
            reason: .batchAccountStatusInvalid,
            name: "batch_account_status_invalid",
            meaning: "An account status is not 1, 2 or 3."
        ),
        Info(reason: .batchTooManyLegs, name: "batch_too_many_legs", meaning: "A post's leg count is above 255."),
        Info(
            reason: .batchTooManyFXRates,
            name: "batch_too_many_fx_rates",
            meaning: "A post's rate count is above 255."
        ),
        Info(
            reason: .batchReferenceTooLong,
            name: "batch_reference_too_long",
            meaning: "An external reference's length is above 1,024."
        ),
        Info(
            reason: .batchTrailingBytes,
            name: "batch_trailing_bytes",
            meaning: "Bytes follow the batch's last operation inside the frame."
        ),
    ]

    /// The reason for a batch decoding error.
    public init(_ reason: OperationBatch.DecodingError.Reason) {
        switch reason {
        case .truncated: self = .batchTruncated
        case .unsupportedVersion: self = .batchVersionUnsupported
        // The submit decoder checks the count against the server's limit first, which is never
        // above the batch encoding's: this reason is answered as too_many_operations instead.
        case .tooManyOperations: self = .countOutOfRange
        case .unknownOperationKind: self = .batchUnknownOperationKind
        case .invalidOperationFlags: self = .batchOperationFlagsInvalid
        case .invalidSide: self = .batchSideInvalid
        case .invalidNormalSide: self = .batchNormalSideInvalid
        case .invalidAccountStatus: self = .batchAccountStatusInvalid
        case .tooManyLegs: self = .batchTooManyLegs
        case .tooManyFXRates: self = .batchTooManyFXRates
        case .referenceTooLong: self = .batchReferenceTooLong
        case .trailingBytes: self = .batchTrailingBytes
        }
    }

    /// The reason's name (`reason_<number>` for a number this module does not know).
    public var name: String {
        MalformedReason.all.first { $0.reason == self }?.name ?? "reason_\(self.rawValue)"
    }

    public var description: String { self.name }
}
