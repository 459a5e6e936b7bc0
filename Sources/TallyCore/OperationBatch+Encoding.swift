// The canonical binary encoding of an OperationBatch, format v1: what the write-ahead journal stores
// and replays after a crash, so it reproduces a batch exactly, including content the ledger
// rejects. docs/FORMATS.md ("Operation batch encoding (v1)") has the tables and a worked example.
//
// Every integer is little-endian; there is no padding and no alignment. Sizes in bytes.
//
//   u16 version = 1, u32 operation count, then per operation:
//     u8 kind (OperationKind raw value)
//     u8 flags: bit 0 linked, bit 1 final (captures only); every other bit 0
//     body by kind:
//       create_asset        u128 code, u8 scale                                            (17)
//       create_account      u64 id, u128 asset, u16 kind, u8 normal side (0 none, 1 debit,
//                           2 credit), u64 merchant, u64 partner, u16 flags                (45)
//       set_account_status  u64 account, u8 status (1 open, 2 frozen, 3 closed), u64 actor,
//                           u32 reason                                                     (21)
//       expire_hold         u64 hold                                                        (8)
//     the other six start with a transaction header (42 + P + Q):
//                           u128 key, u16 type, u64 effective time ns, u64 actor, u32 reason,
//                           u16 payment id length P + P bytes,
//                           u16 provider reference length Q + Q bytes
//       post                header, u16 leg count L, L legs (u64 account, u8 side 1/2,
//                           u128 amount), u16 rate count R, R rates (u128 base, u128 quote,
//                           u64 numerator, u64 denominator)               (header + 4 + 25 L + 48 R)
//       hold                header, u64 debit, u64 credit, u128 amount, u32 timeout seconds
//       capture             header, u64 hold, u128 amount
//       increase_hold       header, u64 hold, u128 amount
//       void_hold           header, u64 hold
//       reverse             header, u64 transaction
//
// Every field is stored as given, valid for the ledger or not (type 0, zero amounts, 40 legs, a
// 100-byte reference): replay must meet the same rejections. Only what has no `Operation` value
// is refused (an unknown kind, flag bit, side, normal side or status), and counts above the
// decoder's limits, which bound the memory a decode can take.

extension OperationBatch {
    /// The version of the encoding ``encode(into:)`` writes and ``decode(_:)`` reads.
    public static let encodingVersion: UInt16 = 1

    /// The limits of the encoding (format v1). The decoder refuses a batch beyond them and
    /// ``encode(into:)`` never writes one.
    ///
    /// The leg, rate and reference limits are wider than the ledger's on purpose: content the
    /// ledger rejects (40 legs, a 100-byte reference) must still reach it, so that replay meets the
    /// same documented rejection.
    public enum EncodingLimits {
        /// Operations in one batch: the ledger's own limit, enforced by the engine and protocol.
        public static let operationsMax = Limits.operationsPerBatchMax
        /// Legs of one post (the ledger accepts at most ``Limits/legsPerTransactionMax``).
        public static let legsPerPostMax = 255
        /// FX rates of one post (the ledger accepts at most ``Limits/fxRatesPerTransactionMax``).
        public static let fxRatesPerPostMax = 255
        /// Bytes of one external reference (the ledger accepts at most
        /// ``Limits/externalReferenceBytesMax``).
        public static let referenceBytesMax = 1_024
    }

    /// Sizes of the fixed parts of the layout, in bytes.
    fileprivate enum EncodedSize {
        static let batchHeader = 6
        /// Kind and flags.
        static let operationHead = 2
        static let createAsset = 17
        static let createAccount = 45
        static let setAccountStatus = 21
        /// The fixed fields of a transaction header, without the references and their lengths.
        static let transactionHeaderFields = 38
        static let referenceLength = 2
        /// A whole transaction header with two empty references.
        static let transactionHeader = transactionHeaderFields + 2 * referenceLength
        static let listCount = 2
        static let leg = 25
        static let fxRate = 48
        static let holdTerms = 36
        static let holdAndAmount = 24
        static let transactionID = 8
        /// The smallest operation (an expiry), which bounds how many operations an input can hold.
        static let operationMin = operationHead + transactionID
    }

    /// Operation flag bits.
    fileprivate enum EncodedFlag {
        static let linked: UInt8 = 1 << 0
        static let final: UInt8 = 1 << 1
    }

    /// Why ``decode(_:)`` refused its input, and where.
    public struct DecodingError: Error, Hashable, CustomStringConvertible {
        /// The byte offset, from the start of the input, of the field that is wrong; for
        /// ``Reason/truncated(needed:)``, of the part the input ends inside.
        public var offset: Int
        /// What is wrong there.
        public var reason: Reason

        /// What can be wrong with an encoded batch.
        public enum Reason: Hashable, Sendable {
            /// The input ends inside a part (the batch header, an operation's fixed fields, a
            /// reference, the legs, the rates) that takes `needed` bytes from the offset.
            case truncated(needed: Int)
            /// The version is not one this decoder reads.
            case unsupportedVersion(UInt16)
            /// The operation count is above ``EncodingLimits/operationsMax``.
            case tooManyOperations(UInt32)
            /// The kind is not an ``OperationKind``.
            case unknownOperationKind(UInt8)
            /// Undefined flag bits are set, or the final bit on an operation that is not a capture.
            case invalidOperationFlags(UInt8)
            /// A leg's side is not 1 (debit) or 2 (credit).
            case invalidSide(UInt8)
            /// An account's normal side is not 0 (none), 1 (debit) or 2 (credit).
            case invalidNormalSide(UInt8)
            /// An account status is not 1 (open), 2 (frozen) or 3 (closed).
            case invalidAccountStatus(UInt8)
            /// A post's leg count is above ``EncodingLimits/legsPerPostMax``.
            case tooManyLegs(UInt16)
            /// A post's rate count is above ``EncodingLimits/fxRatesPerPostMax``.
            case tooManyFXRates(UInt16)
            /// A reference length is above ``EncodingLimits/referenceBytesMax``.
            case referenceTooLong(UInt16)
            /// The last operation ends `count` bytes before the input does.
            case trailingBytes(count: Int)
        }

        public init(offset: Int, reason: Reason) {
            self.offset = offset
            self.reason = reason
        }

        /// What is wrong, in words.
        public var message: String {
            switch self.reason {
            case .truncated(let needed):
                return "incomplete input: the part at this offset takes \(needed) bytes"
            case .unsupportedVersion(let version):
                return "unsupported version \(version) (this decoder reads \(OperationBatch.encodingVersion))"
            case .tooManyOperations(let count):
                return "\(count) operations, more than \(EncodingLimits.operationsMax)"
            case .unknownOperationKind(let kind):
                return "unknown operation kind \(kind)"
            case .invalidOperationFlags(let flags):
                return "invalid operation flags 0x\(String(flags, radix: 16)): only bit 0 (linked), and bit 1 "
                    + "(final) on a capture, may be set"
            case .invalidSide(let side):
                return "invalid side \(side) (1 debit, 2 credit)"
            case .invalidNormalSide(let side):
                return "invalid normal side \(side) (0 none, 1 debit, 2 credit)"
            case .invalidAccountStatus(let status):
                return "invalid account status \(status) (1 open, 2 frozen, 3 closed)"
            case .tooManyLegs(let count):
                return "\(count) legs, more than \(EncodingLimits.legsPerPostMax)"
            case .tooManyFXRates(let count):
                return "\(count) FX rates, more than \(EncodingLimits.fxRatesPerPostMax)"
            case .referenceTooLong(let length):
                return "reference of \(length) bytes, more than \(EncodingLimits.referenceBytesMax)"
            case .trailingBytes(let count):
                return "\(count) trailing bytes after the last operation"
            }
        }

        public var description: String {
            "operation batch v\(OperationBatch.encodingVersion) at byte \(self.offset): \(self.message)"
        }
    }

    // MARK: - Encoding

    /// The exact number of bytes ``encode(into:)`` appends, so that a caller can reserve room.
    public var encodedByteCount: Int {
        var total = EncodedSize.batchHeader
        for index in self.entries.indices {
            total += Self.encodedByteCount(of: self.entries[index].operation)
        }
        return total
    }

    @inline(__always)
    private static func encodedByteCount(of operation: Stored) -> Int {
        let head = EncodedSize.operationHead
        switch operation {
        case .createAsset:
            return head + EncodedSize.createAsset
        case .createAccount:
            return head + EncodedSize.createAccount
        case .setAccountStatus:
            return head + EncodedSize.setAccountStatus
        case .post(_, let legs, let fxRates, let references):
            return head + Self.encodedByteCount(of: references) + 2 * EncodedSize.listCount
                + Int(legs.count) * EncodedSize.leg + Int(fxRates.count) * EncodedSize.fxRate
        case .hold(_, _, let references):
            return head + Self.encodedByteCount(of: references) + EncodedSize.holdTerms
        case .capture(_, _, let references), .increaseHold(_, _, let references):
            return head + Self.encodedByteCount(of: references) + EncodedSize.holdAndAmount
        case .voidHold(_, _, let references), .reverse(_, _, let references):
            return head + Self.encodedByteCount(of: references) + EncodedSize.transactionID
        case .expireHold:
            return head + EncodedSize.transactionID
        }
    }

    /// A transaction header with its references.
    @inline(__always)
    private static func encodedByteCount(of references: ReferenceSlices) -> Int {
        EncodedSize.transactionHeader + Int(references.paymentID.count) + Int(references.providerReference.count)
    }

    /// True when ``encode(into:)`` accepts this batch: at most ``EncodingLimits/operationsMax``
    /// operations, every post at most ``EncodingLimits/legsPerPostMax`` legs and
    /// ``EncodingLimits/fxRatesPerPostMax`` rates, every reference at most
    /// ``EncodingLimits/referenceBytesMax`` bytes. A batch the ledger's own limits admit always is.
    public var isWithinEncodingLimits: Bool {
        guard self.entries.count <= EncodingLimits.operationsMax else { return false }
        for index in self.entries.indices {
            switch self.entries[index].operation {
            case .createAsset, .createAccount, .setAccountStatus, .expireHold:
                continue
            case .post(_, let legs, let fxRates, let references):
                guard
                    legs.count <= EncodingLimits.legsPerPostMax, fxRates.count <= EncodingLimits.fxRatesPerPostMax,
                    Self.referencesAreWithinEncodingLimits(references)
                else { return false }
            case .hold(_, _, let references), .capture(_, _, let references), .increaseHold(_, _, let references),
                .voidHold(_, _, let references), .reverse(_, _, let references):
                guard Self.referencesAreWithinEncodingLimits(references) else { return false }
            }
        }
        return true
    }

    private static func referencesAreWithinEncodingLimits(_ references: ReferenceSlices) -> Bool {
        references.paymentID.count <= EncodingLimits.referenceBytesMax
            && references.providerReference.count <= EncodingLimits.referenceBytesMax
    }

    /// Appends the encoding of the whole batch (format v1, ``encodedByteCount`` bytes) to `bytes`.
    ///
    /// The batch must be within the encoding limits (``isWithinEncodingLimits``): the engine checks
    /// them before it applies a batch, so a batch beyond them here is a bug, and it traps rather
    /// than write what the decoder would refuse at replay.
    public func encode(into bytes: inout [UInt8]) {
        precondition(
            self.entries.count <= EncodingLimits.operationsMax,
            "\(self.entries.count) operations, more than the encoding's \(EncodingLimits.operationsMax)"
        )
        let byteCount = self.encodedByteCount
        let start = bytes.count
        // Array cannot grow without initialising: zero the room (a memset), then fill it with
        // plain stores, a part at a time, rather than an append with its checks per field.
        bytes.append(contentsOf: repeatElement(0, count: byteCount))
        bytes.withUnsafeMutableBytes { buffer in
            var writer = BatchWriter(UnsafeMutableRawBufferPointer(rebasing: buffer[start...]))
            self.withView { view in
                var fields = writer.advance(EncodedSize.batchHeader)
                fields.put(OperationBatch.encodingVersion)
                fields.put(UInt32(truncatingIfNeeded: view.count))
                for index in 0..<view.count {
                    writer.operation(view.entries[index], in: view)
                }
            }
            precondition(writer.count == byteCount, "encodedByteCount disagrees with encode(into:)")
        }
    }

    // MARK: - Decoding

    /// Decodes a batch (format v1) that must fill `bytes` exactly.
    ///
    /// Throws when the input is incomplete, has trailing bytes, another version, an unknown
    /// operation kind, undefined flag bits, an invalid side, normal side or account status, or a
    /// count beyond ``EncodingLimits``; never traps and never reads outside `bytes`.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodingError) -> OperationBatch {
        var batch = OperationBatch()
        try batch.decode(bytes)
        return batch
    }

    /// Replaces the content of this batch with the batch (format v1) that fills `bytes` exactly,
    /// reusing the batch's storage. On error the batch is left empty.
    ///
    /// Throws as the static ``decode(_:)`` does.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodingError) {
        self.removeAll(keepingCapacity: true)
        do {
            var reader = BatchReader(bytes)
            try self.decodeContent(&reader)
        } catch {
            self.removeAll(keepingCapacity: true)
            throw error
        }
    }

    private mutating func decodeContent(_ reader: inout BatchReader) throws(DecodingError) {
        var versionField = try reader.take(2)
        let version: UInt16 = versionField.next()
        guard version == OperationBatch.encodingVersion else {
            throw DecodingError(offset: versionField.offset, reason: .unsupportedVersion(version))
        }
        var countField = try reader.take(4)
        let count: UInt32 = countField.next()
        guard count <= EncodingLimits.operationsMax else {
            throw DecodingError(offset: countField.offset, reason: .tooManyOperations(count))
        }
        // Reserve no more than the input can hold, so a forged count cannot make a big allocation.
        self.entries.reserveCapacity(min(Int(count), reader.remaining / EncodedSize.operationMin))
        for _ in 0..<count {
            try self.decodeOperation(&reader)
        }
        guard reader.remaining == 0 else {
            throw DecodingError(offset: reader.offset, reason: .trailingBytes(count: reader.remaining))
        }
    }

    /// Decodes one operation. The fixed fields that follow the kind and flags are read in the
    /// same part, so a body is checked against the input's end once, not once per field.
    @inline(__always)
    private mutating func decodeOperation(_ reader: inout BatchReader) throws(DecodingError) {
        var head = try reader.take(EncodedSize.operationHead)
        let rawKind: UInt8 = head.next()
        guard let kind = OperationKind(rawValue: rawKind) else {
            throw DecodingError(offset: head.offset, reason: .unknownOperationKind(rawKind))
        }
        let flags: UInt8 = head.next()
        let allowed = kind == .capture ? EncodedFlag.linked | EncodedFlag.final : EncodedFlag.linked
        guard flags & ~allowed == 0 else {
            throw DecodingError(offset: head.offset + 1, reason: .invalidOperationFlags(flags))
        }
        let isLinked = flags & EncodedFlag.linked != 0

        let operation: Stored
        switch kind {
        case .createAsset:
            var body = try reader.take(EncodedSize.createAsset)
            operation = .createAsset(CreateAsset(code: AssetCode(rawValue: body.next()), scale: body.next()))
        case .createAccount:
            operation = .createAccount(try Self.decodeCreateAccount(&reader))
        case .setAccountStatus:
            var body = try reader.take(EncodedSize.setAccountStatus)
            let account = AccountID(rawValue: body.next())
            let statusOffset = body.currentOffset
            let rawStatus: UInt8 = body.next()
            guard let status = AccountStatus(rawValue: rawStatus) else {
                throw DecodingError(offset: statusOffset, reason: .invalidAccountStatus(rawStatus))
            }
            operation = .setAccountStatus(
                SetAccountStatus(account: account, status: status, actor: body.next(), reason: body.next())
            )
        case .post:
            let (header, references) = try self.decodeHeader(&reader)
            let legs = try self.decodeLegs(&reader)
            let fxRates = try self.decodeFXRates(&reader)
            operation = .post(header, legs: legs, fxRates: fxRates, references: references)
        case .hold:
            let (header, references) = try self.decodeHeader(&reader)
            var body = try reader.take(EncodedSize.holdTerms)
            let terms = HoldTerms(
                debit: AccountID(rawValue: body.next()),
                credit: AccountID(rawValue: body.next()),
                amount: body.next(),
                timeoutSeconds: body.next()
            )
            operation = .hold(header, terms, references: references)
        case .capture:
            let (header, references) = try self.decodeHeader(&reader)
            var body = try reader.take(EncodedSize.holdAndAmount)
            let terms = CaptureTerms(
                hold: TransactionID(rawValue: body.next()),
                amount: body.next(),
                isFinal: flags & EncodedFlag.final != 0
            )
            operation = .capture(header, terms, references: references)
        case .increaseHold:
            let (header, references) = try self.decodeHeader(&reader)
            var body = try reader.take(EncodedSize.holdAndAmount)
            let terms = IncreaseTerms(hold: TransactionID(rawValue: body.next()), amount: body.next())
            operation = .increaseHold(header, terms, references: references)
        case .voidHold:
            let (header, references) = try self.decodeHeader(&reader)
            var body = try reader.take(EncodedSize.transactionID)
            operation = .voidHold(header, hold: TransactionID(rawValue: body.next()), references: references)
        case .expireHold:
            var body = try reader.take(EncodedSize.transactionID)
            operation = .expireHold(hold: TransactionID(rawValue: body.next()))
        case .reverse:
            let (header, references) = try self.decodeHeader(&reader)
            var body = try reader.take(EncodedSize.transactionID)
            operation = .reverse(header, transaction: TransactionID(rawValue: body.next()), references: references)
        }
        self.entries.append(Entry(operation: operation, isLinked: isLinked))
    }

    private static func decodeCreateAccount(_ reader: inout BatchReader) throws(DecodingError) -> CreateAccount {
        var body = try reader.take(EncodedSize.createAccount)
        let id = AccountID(rawValue: body.next())
        let asset = AssetCode(rawValue: body.next())
        let kind = AccountKind(rawValue: body.next())
        let sideOffset = body.currentOffset
        let rawSide: UInt8 = body.next()
        let normalSide: Side?
        if rawSide == 0 {
            normalSide = nil
        } else if let side = Side(rawValue: rawSide) {
            normalSide = side
        } else {
            throw DecodingError(offset: sideOffset, reason: .invalidNormalSide(rawSide))
        }
        return CreateAccount(
            id: id,
            asset: asset,
            kind: kind,
            normalSide: normalSide,
            merchant: body.next(),
            partner: body.next(),
            flags: AccountFlags(rawValue: body.next())
        )
    }

    /// Reads a transaction header and copies its references into ``referenceBytes``.
    @inline(__always)
    private mutating func decodeHeader(
        _ reader: inout BatchReader
    ) throws(DecodingError) -> (TransactionHeader, ReferenceSlices) {
        // The fixed fields and the payment id's length: one part.
        var fields = try reader.take(EncodedSize.transactionHeaderFields + EncodedSize.referenceLength)
        let header = TransactionHeader(
            key: IdempotencyKey(rawValue: fields.next()),
            type: TransactionType(rawValue: fields.next()),
            effectiveTime: Timestamp(nanosecondsSinceEpoch: fields.next()),
            actor: fields.next(),
            reason: fields.next()
        )
        let paymentID = try self.decodeReference(&reader, length: &fields)
        var providerLength = try reader.take(EncodedSize.referenceLength)
        let providerReference = try self.decodeReference(&reader, length: &providerLength)
        return (header, ReferenceSlices(paymentID: paymentID, providerReference: providerReference))
    }

    /// Reads a reference whose length is the next field of `length`, and copies its bytes into
    /// ``referenceBytes``.
    @inline(__always)
    private mutating func decodeReference(
        _ reader: inout BatchReader,
        length lengthField: inout InputFields
    ) throws(DecodingError) -> Slice {
        let lengthOffset = lengthField.currentOffset
        let length: UInt16 = lengthField.next()
        guard length <= EncodingLimits.referenceBytesMax else {
            throw DecodingError(offset: lengthOffset, reason: .referenceTooLong(length))
        }
        let slice = Slice(start: self.referenceBytes.count, count: Int(length))
        if length != 0 {
            let bytes = try reader.take(Int(length))
            self.referenceBytes.append(contentsOf: bytes.all)
        }
        return slice
    }

    @inline(__always)
    private mutating func decodeLegs(_ reader: inout BatchReader) throws(DecodingError) -> Slice {
        var countField = try reader.take(EncodedSize.listCount)
        let count: UInt16 = countField.next()
        guard count <= EncodingLimits.legsPerPostMax else {
            throw DecodingError(offset: countField.offset, reason: .tooManyLegs(count))
        }
        let slice = Slice(start: self.legs.count, count: Int(count))
        guard count != 0 else { return slice }
        var fields = try reader.take(Int(count) * EncodedSize.leg)
        for _ in 0..<count {
            let account = AccountID(rawValue: fields.next())
            let sideOffset = fields.currentOffset
            let rawSide: UInt8 = fields.next()
            guard let side = Side(rawValue: rawSide) else {
                throw DecodingError(offset: sideOffset, reason: .invalidSide(rawSide))
            }
            self.legs.append(Leg(account: account, side: side, amount: fields.next()))
        }
        return slice
    }

    @inline(__always)
    private mutating func decodeFXRates(_ reader: inout BatchReader) throws(DecodingError) -> Slice {
        var countField = try reader.take(EncodedSize.listCount)
        let count: UInt16 = countField.next()
        guard count <= EncodingLimits.fxRatesPerPostMax else {
            throw DecodingError(offset: countField.offset, reason: .tooManyFXRates(count))
        }
        let slice = Slice(start: self.fxRates.count, count: Int(count))
        guard count != 0 else { return slice }
        var fields = try reader.take(Int(count) * EncodedSize.fxRate)
        for _ in 0..<count {
            self.fxRates.append(
                FXRate(
                    base: AssetCode(rawValue: fields.next()),
                    quote: AssetCode(rawValue: fields.next()),
                    numerator: fields.next(),
                    denominator: fields.next()
                )
            )
        }
        return slice
    }
}

// MARK: - Writing and reading parts

/// Writes the encoding into memory sized with ``OperationBatch/encodedByteCount``, a part (an
/// operation's fixed fields, a reference, the legs) at a time: each part is checked against the
/// end once, and its fields are written with plain unaligned stores at offsets the optimiser folds.
private struct BatchWriter {
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
    }

    /// The next `byteCount` bytes, to be filled by the caller.
    @inline(__always)
    mutating func advance(_ byteCount: Int) -> OutputFields {
        // A wrong size computation must not write past the array's storage.
        precondition(byteCount <= self.buffer.count &- self.count, "encoding overruns encodedByteCount")
        let fields = OutputFields(start: self.buffer.baseAddress.unsafelyUnwrapped + self.count, count: byteCount)
        self.count &+= byteCount  // cannot overflow: at most buffer.count
        return fields
    }

    @inline(__always)
    mutating func operation(_ entry: OperationBatch.Entry, in view: BatchView) {
        typealias Size = OperationBatch.EncodedSize
        let linked = entry.isLinked ? OperationBatch.EncodedFlag.linked : 0
        switch entry.operation {
        case .createAsset(let body):
            var fields = self.advance(Size.operationHead + Size.createAsset)
            fields.put(OperationKind.createAsset.rawValue)
            fields.put(linked)
            fields.put(body.code.rawValue)
            fields.put(body.scale)
        case .createAccount(let body):
            var fields = self.advance(Size.operationHead + Size.createAccount)
            fields.put(OperationKind.createAccount.rawValue)
            fields.put(linked)
            fields.put(body.id.rawValue)
            fields.put(body.asset.rawValue)
            fields.put(body.kind.rawValue)
            fields.put(body.normalSide?.rawValue ?? 0)
            fields.put(body.merchant)
            fields.put(body.partner)
            fields.put(body.flags.rawValue)
        case .setAccountStatus(let body):
            var fields = self.advance(Size.operationHead + Size.setAccountStatus)
            fields.put(OperationKind.setAccountStatus.rawValue)
            fields.put(linked)
            fields.put(body.account.rawValue)
            fields.put(body.status.rawValue)
            fields.put(body.actor)
            fields.put(body.reason)
        case .post(let header, let legs, let fxRates, let references):
            self.header(.post, flags: linked, header, references, in: view)
            self.legs(view.legs(legs))
            self.fxRates(view.fxRates(fxRates))
        case .hold(let header, let terms, let references):
            self.header(.hold, flags: linked, header, references, in: view)
            var fields = self.advance(Size.holdTerms)
            fields.put(terms.debit.rawValue)
            fields.put(terms.credit.rawValue)
            fields.put(terms.amount)
            fields.put(terms.timeoutSeconds)
        case .capture(let header, let terms, let references):
            let flags = linked | (terms.isFinal ? OperationBatch.EncodedFlag.final : 0)
            self.header(.capture, flags: flags, header, references, in: view)
            var fields = self.advance(Size.holdAndAmount)
            fields.put(terms.hold.rawValue)
            fields.put(terms.amount)
        case .increaseHold(let header, let terms, let references):
            self.header(.increaseHold, flags: linked, header, references, in: view)
            var fields = self.advance(Size.holdAndAmount)
            fields.put(terms.hold.rawValue)
            fields.put(terms.amount)
        case .voidHold(let header, let hold, let references):
            self.header(.voidHold, flags: linked, header, references, in: view)
            var fields = self.advance(Size.transactionID)
            fields.put(hold.rawValue)
        case .expireHold(let hold):
            var fields = self.advance(Size.operationHead + Size.transactionID)
            fields.put(OperationKind.expireHold.rawValue)
            fields.put(linked)
            fields.put(hold.rawValue)
        case .reverse(let header, let transaction, let references):
            self.header(.reverse, flags: linked, header, references, in: view)
            var fields = self.advance(Size.transactionID)
            fields.put(transaction.rawValue)
        }
    }

    /// Writes the kind, the flags and a transaction header with its references.
    @inline(__always)
    mutating func header(
        _ kind: OperationKind,
        flags: UInt8,
        _ header: TransactionHeader,
        _ references: OperationBatch.ReferenceSlices,
        in view: BatchView
    ) {
        let paymentID = view.bytes(references.paymentID)
        let providerReference = view.bytes(references.providerReference)
        let referenceBytesMax = OperationBatch.EncodingLimits.referenceBytesMax
        precondition(
            paymentID.count <= referenceBytesMax && providerReference.count <= referenceBytesMax,
            "a reference longer than the encoding's \(referenceBytesMax) bytes"
        )
        typealias Size = OperationBatch.EncodedSize
        var fields = self.advance(
            Size.operationHead + Size.transactionHeaderFields + Size.referenceLength + paymentID.count
                + Size.referenceLength
        )
        fields.put(kind.rawValue)
        fields.put(flags)
        fields.put(header.key.rawValue)
        fields.put(header.type.rawValue)
        fields.put(header.effectiveTime.nanosecondsSinceEpoch)
        fields.put(header.actor)
        fields.put(header.reason)
        fields.put(UInt16(truncatingIfNeeded: paymentID.count))
        fields.put(paymentID)
        fields.put(UInt16(truncatingIfNeeded: providerReference.count))
        if providerReference.count > 0 {
            var bytes = self.advance(providerReference.count)
            bytes.put(providerReference)
        }
    }

    @inline(__always)
    mutating func legs(_ legs: UnsafeBufferPointer<Leg>) {
        precondition(
            legs.count <= OperationBatch.EncodingLimits.legsPerPostMax,
            "a post of \(legs.count) legs, more than the encoding's \(OperationBatch.EncodingLimits.legsPerPostMax)"
        )
        var fields = self.advance(OperationBatch.EncodedSize.listCount + legs.count * OperationBatch.EncodedSize.leg)
        fields.put(UInt16(truncatingIfNeeded: legs.count))
        for leg in legs {
            fields.put(leg.account.rawValue)
            fields.put(leg.side.rawValue)
            fields.put(leg.amount)
        }
    }

    @inline(__always)
    mutating func fxRates(_ rates: UnsafeBufferPointer<FXRate>) {
        precondition(
            rates.count <= OperationBatch.EncodingLimits.fxRatesPerPostMax,
            "a post of \(rates.count) FX rates, more than the encoding's \(OperationBatch.EncodingLimits.fxRatesPerPostMax)"
        )
        var fields = self.advance(
            OperationBatch.EncodedSize.listCount + rates.count * OperationBatch.EncodedSize.fxRate
        )
        fields.put(UInt16(truncatingIfNeeded: rates.count))
        for rate in rates {
            fields.put(rate.base.rawValue)
            fields.put(rate.quote.rawValue)
            fields.put(rate.numerator)
            fields.put(rate.denominator)
        }
    }
}

/// One part of the output, filled field by field.
private struct OutputFields {
    private let start: UnsafeMutableRawPointer
    private let count: Int
    private var position = 0

    init(start: UnsafeMutableRawPointer, count: Int) {
        self.start = start
        self.count = count
    }

    @inline(__always)
    mutating func put<T: FixedWidthInteger>(_ value: T) {
        assert(self.position + MemoryLayout<T>.size <= self.count, "a write outside its part")
        self.start.storeBytes(of: value.littleEndian, toByteOffset: self.position, as: T.self)
        self.position &+= MemoryLayout<T>.size
    }

    @inline(__always)
    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        assert(self.position + bytes.count <= self.count, "a write outside its part")
        if let source = bytes.baseAddress, bytes.count > 0 {
            (self.start + self.position).copyMemory(from: source, byteCount: bytes.count)
        }
        self.position += bytes.count
    }
}

/// Reads the input a part at a time: ``take(_:)`` checks that the whole part is there, then its
/// fields are read without further checks (asserted in debug builds).
private struct BatchReader {
    private let base: UnsafeRawPointer?
    private let count: Int
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.base = bytes.baseAddress
        self.count = bytes.count
    }

    var remaining: Int { self.count &- self.offset }

    /// The next `byteCount` bytes (at least one); throws when the input ends before them.
    @inline(__always)
    mutating func take(_ byteCount: Int) throws(OperationBatch.DecodingError) -> InputFields {
        assert(byteCount > 0, "an empty part")
        guard byteCount <= self.remaining else {
            throw OperationBatch.DecodingError(offset: self.offset, reason: .truncated(needed: byteCount))
        }
        // Not nil: at least one byte remains.
        let fields = InputFields(
            start: self.base.unsafelyUnwrapped + self.offset,
            offset: self.offset,
            count: byteCount
        )
        self.offset &+= byteCount  // cannot overflow: at most count
        return fields
    }
}

/// One part of the input, read field by field.
private struct InputFields {
    private let start: UnsafeRawPointer
    /// The part's offset in the input.
    let offset: Int
    private let count: Int
    private var position = 0

    init(start: UnsafeRawPointer, offset: Int, count: Int) {
        self.start = start
        self.offset = offset
        self.count = count
    }

    /// The offset in the input of the next field.
    var currentOffset: Int { self.offset + self.position }

    /// The whole part.
    var all: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: self.start, count: self.count) }

    @inline(__always)
    mutating func next<T: FixedWidthInteger & BitwiseCopyable>(_: T.Type = T.self) -> T {
        assert(self.position + MemoryLayout<T>.size <= self.count, "a read outside its part")
        let value = self.start.loadUnaligned(fromByteOffset: self.position, as: T.self)
        self.position &+= MemoryLayout<T>.size
        return T(littleEndian: value)
    }
}
