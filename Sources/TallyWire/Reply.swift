import TallyCore

/// A reply, by opcode, or the error that answers a request of any opcode.
public enum Reply: Hashable, Sendable {
    case handshake(HandshakeReply)
    case ping
    case statistics(StatisticsReply)
    case submitBatch(SubmitBatchReply)
    case waitUntilDurable(WaitUntilDurableReply)
    case balances(BalancesReply)
    case accounts(AccountsReply)
    case aggregateBalance(AggregateBalanceReply)
    case aggregateBalances(AggregateBalancesReply)
    case assets(AssetsReply)
    case holds(HoldsReply)
    case transaction(TransactionReply)
    case idempotencyRecord(IdempotencyReply)
    /// Any status but ok.
    case failure(ErrorReply)

    /// The opcode of an ok reply; nil for a failure, which echoes its request's opcode.
    public var opcode: Opcode? {
        switch self {
        case .handshake: return .handshake
        case .ping: return .ping
        case .statistics: return .statistics
        case .submitBatch: return .submitBatch
        case .waitUntilDurable: return .waitUntilDurable
        case .balances: return .balances
        case .accounts: return .accounts
        case .aggregateBalance: return .aggregateBalance
        case .aggregateBalances: return .aggregateBalances
        case .assets: return .assets
        case .holds: return .holds
        case .transaction: return .transaction
        case .idempotencyRecord: return .idempotencyRecord
        case .failure: return nil
        }
    }

    public var status: ReplyStatus {
        if case .failure(let error) = self { return error.status }
        return .ok
    }
}

/// A reply with the request id it answers: one frame from server to client.
public struct ReplyFrame: Hashable, Sendable {
    /// The request's id; 0 for a reply the server sends on its own (a connection-level error).
    public var requestID: UInt64
    /// The request's opcode, raw (an unknown one is echoed as it came); 0 when unknown.
    public var opcode: UInt8
    /// Whether the server closes the connection after this reply.
    public var isClosing: Bool
    public var reply: Reply

    /// An ok reply to request `requestID`.
    public init(requestID: UInt64, _ reply: Reply, isClosing: Bool = false) {
        guard let opcode = reply.opcode else {
            preconditionFailure("a failure needs its request's opcode: use init(requestID:opcode:failure:isClosing:)")
        }
        precondition(requestID != 0, "an ok reply answers a request, whose id is never 0")
        self.requestID = requestID
        self.opcode = opcode.rawValue
        self.isClosing = isClosing
        self.reply = reply
    }

    /// A failure of the request `requestID` with opcode `opcode` (0 and 0 for the connection).
    public init(requestID: UInt64, opcode: UInt8, failure: ErrorReply, isClosing: Bool = false) {
        self.requestID = requestID
        self.opcode = opcode
        self.isClosing = isClosing
        self.reply = .failure(failure)
    }

    /// The reply to a request the decoder refused: the closing flag follows
    /// ``WireError/closesConnection``.
    public init(error: WireError) {
        self.init(
            requestID: error.requestID,
            opcode: error.opcode,
            failure: ErrorReply(error),
            isClosing: error.closesConnection
        )
    }

    /// Appends the frame to `bytes`. Like ``RequestFrame/encode(into:)``, values beyond the
    /// protocol's ceilings trap.
    public func encode(into bytes: inout [UInt8]) {
        let start = bytes.count
        FrameHeader(
            length: 0,
            opcode: self.opcode,
            requestID: self.requestID,
            status: self.reply.status,
            flags: self.isClosing ? FrameHeader.closingFlag : 0
        )
        .encode(into: &bytes)
        switch self.reply {
        case .handshake(let reply): reply.encode(into: &bytes)
        case .ping: break
        case .statistics(let reply): reply.encode(into: &bytes)
        case .submitBatch(let reply): reply.encode(into: &bytes)
        case .waitUntilDurable(let reply): reply.encode(into: &bytes)
        case .balances(let reply): reply.encode(into: &bytes)
        case .accounts(let reply): reply.encode(into: &bytes)
        case .aggregateBalance(let reply): reply.encode(into: &bytes)
        case .aggregateBalances(let reply): reply.encode(into: &bytes)
        case .assets(let reply): reply.encode(into: &bytes)
        case .holds(let reply): reply.encode(into: &bytes)
        case .transaction(let reply): reply.encode(into: &bytes)
        case .idempotencyRecord(let reply): reply.encode(into: &bytes)
        case .failure(let reply): reply.encode(into: &bytes)
        }
        FrameHeader.patchLength(in: &bytes, frameStart: start)
    }

    /// Decodes the reply frame at the start of `bytes` (limited by the protocol's ceiling only).
    /// Never traps and never reads outside `bytes`.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> FrameDecoding<ReplyFrame> {
        switch FrameHeader.decode(bytes, frameBytesMax: WireProtocol.frameBytesCeiling) {
        case .needMoreBytes(let count):
            return .needMoreBytes(count)
        case .fatal(let error):
            return .fatal(error)
        case .frame(let header):
            let frame = UnsafeRawBufferPointer(rebasing: bytes[0..<header.length])
            let result = Result { () throws(WireError) in try Self.decode(frame: frame, header: header) }
            return .frame(result, byteCount: header.length)
        }
    }

    /// Decodes a whole frame that ``FrameHeader/decode(_:frameBytesMax:)`` found: the flags, the
    /// request id (0 only with a failure), then the payload by status and opcode.
    public static func decode(frame: UnsafeRawBufferPointer, header: FrameHeader) throws(WireError) -> ReplyFrame {
        precondition(
            header.length >= WireProtocol.headerBytes && frame.count >= header.length,
            "decode(frame:header:) takes the whole frame the header was decoded from"
        )
        do {
            return try Self.decodeChecked(frame: frame, header: header)
        } catch var error {
            error.requestID = header.requestID
            error.opcode = header.opcode
            throw error
        }
    }

    private static func decodeChecked(
        frame: UnsafeRawBufferPointer,
        header: FrameHeader
    ) throws(WireError) -> ReplyFrame {
        guard header.flags & ~FrameHeader.closingFlag == 0 else {
            throw .malformed(
                .flagsInvalid,
                at: 18,
                "reply flags 0x\(String(header.flags, radix: 16)): only bit 0 (closing) is defined"
            )
        }
        let isClosing = header.flags & FrameHeader.closingFlag != 0
        guard header.requestID != 0 || header.status != .ok else {
            throw .malformed(.requestIDZero, at: 8, "a reply with request id 0 must report a failure")
        }
        let payload = UnsafeRawBufferPointer(rebasing: frame[WireProtocol.headerBytes..<header.length])
        var reader = WireReader(payload, origin: WireProtocol.headerBytes)
        guard header.status == .ok else {
            let failure = try ErrorReply.decode(&reader, status: header.status)
            return ReplyFrame(
                requestID: header.requestID,
                opcode: header.opcode,
                failure: failure,
                isClosing: isClosing
            )
        }
        guard let opcode = Opcode(rawValue: header.opcode) else {
            throw WireError(
                .unknownOpcode,
                offset: 7,
                "an ok reply with opcode \(header.opcode), which this client does not know"
            )
        }
        let reply: Reply
        switch opcode {
        case .handshake: reply = .handshake(try HandshakeReply.decode(&reader))
        case .ping:
            try reader.expectEnd()
            reply = .ping
        case .statistics: reply = .statistics(try StatisticsReply.decode(&reader))
        case .submitBatch: reply = .submitBatch(try SubmitBatchReply.decode(&reader))
        case .waitUntilDurable: reply = .waitUntilDurable(try WaitUntilDurableReply.decode(&reader))
        case .balances: reply = .balances(try BalancesReply.decode(&reader))
        case .accounts: reply = .accounts(try AccountsReply.decode(&reader))
        case .aggregateBalance: reply = .aggregateBalance(try AggregateBalanceReply.decode(&reader))
        case .aggregateBalances: reply = .aggregateBalances(try AggregateBalancesReply.decode(&reader))
        case .assets: reply = .assets(try AssetsReply.decode(&reader))
        case .holds: reply = .holds(try HoldsReply.decode(&reader))
        case .transaction: reply = .transaction(try TransactionReply.decode(&reader))
        case .idempotencyRecord: reply = .idempotencyRecord(try IdempotencyReply.decode(&reader))
        }
        return ReplyFrame(requestID: header.requestID, reply, isClosing: isClosing)
    }
}
