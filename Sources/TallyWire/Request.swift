import TallyCore

/// A request, by opcode: what a client sends and the server decodes.
public enum Request: Equatable, Sendable {
    case handshake(HandshakeRequest)
    case ping
    case statistics
    case submitBatch(SubmitBatchRequest)
    case waitUntilDurable(WaitUntilDurableRequest)
    case balances(BalancesRequest)
    case accounts(AccountsRequest)
    case aggregateBalance(AggregateBalanceRequest)
    case aggregateBalances(AggregateBalancesRequest)
    case assets(AssetsRequest)
    case holds(HoldsRequest)
    case transaction(TransactionRequest)
    case idempotencyRecord(IdempotencyRequest)

    public var opcode: Opcode {
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
        }
    }

    /// Request flag bit 0: an applied acknowledgement or an applied read.
    var isApplied: Bool {
        switch self {
        case .handshake, .ping, .statistics, .waitUntilDurable: return false
        case .submitBatch(let request): return request.acknowledgement == .applied
        case .balances(let request): return request.consistency == .applied
        case .accounts(let request): return request.consistency == .applied
        case .aggregateBalance(let request): return request.consistency == .applied
        case .aggregateBalances(let request): return request.consistency == .applied
        case .assets(let request): return request.consistency == .applied
        case .holds(let request): return request.consistency == .applied
        case .transaction(let request): return request.consistency == .applied
        case .idempotencyRecord(let request): return request.consistency == .applied
        }
    }
}

/// A request with its id: one frame from client to server.
public struct RequestFrame: Equatable, Sendable {
    /// Chosen by the client, never 0, unique among the connection's requests in flight.
    public var requestID: UInt64
    public var request: Request

    public init(requestID: UInt64, _ request: Request) {
        precondition(requestID != 0, "request id 0 is reserved for replies the server sends on its own")
        self.requestID = requestID
        self.request = request
    }

    /// Appends the frame to `bytes`.
    ///
    /// The request must be within the protocol's ceilings (at most 16,384 items, names and texts
    /// within their lengths, a submit within the batch encoding's limits and
    /// ``WireProtocol/frameBytesCeiling``): encoding what every decoder refuses is a bug, and traps.
    /// The server's own limits (``ConnectionLimits``) are the caller's to check.
    public func encode(into bytes: inout [UInt8]) {
        let start = bytes.count
        let flags = self.request.isApplied ? FrameHeader.appliedFlag : 0
        if case .submitBatch(let submit) = self.request {
            bytes.reserveCapacity(start + submit.frameByteCount)
        }
        FrameHeader(length: 0, opcode: self.request.opcode.rawValue, requestID: self.requestID, flags: flags)
            .encode(into: &bytes)
        switch self.request {
        case .handshake(let request): request.encode(into: &bytes)
        case .ping, .statistics: break
        case .submitBatch(let request): request.encode(into: &bytes)
        case .waitUntilDurable(let request): request.encode(into: &bytes)
        case .balances(let request): request.encode(into: &bytes)
        case .accounts(let request): request.encode(into: &bytes)
        case .aggregateBalance(let request): request.encode(into: &bytes)
        case .aggregateBalances(let request): request.encode(into: &bytes)
        case .assets(let request): request.encode(into: &bytes)
        case .holds(let request): request.encode(into: &bytes)
        case .transaction(let request): request.encode(into: &bytes)
        case .idempotencyRecord(let request): request.encode(into: &bytes)
        }
        FrameHeader.patchLength(in: &bytes, frameStart: start)
    }

    /// Decodes the request frame at the start of `bytes` under the server's `limits`. Never traps,
    /// never reads outside `bytes`, and allocates in proportion to the frame at most.
    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: ConnectionLimits) -> FrameDecoding<RequestFrame>
    {
        switch FrameHeader.decode(bytes, frameBytesMax: limits.frameBytesMax) {
        case .needMoreBytes(let count):
            return .needMoreBytes(count)
        case .fatal(let error):
            return .fatal(error)
        case .frame(let header):
            let frame = UnsafeRawBufferPointer(rebasing: bytes[0..<header.length])
            let result = Result { () throws(WireError) in
                try Self.decode(frame: frame, header: header, limits: limits)
            }
            return .frame(result, byteCount: header.length)
        }
    }

    /// Decodes a whole frame that ``FrameHeader/decode(_:frameBytesMax:)`` found. Judges, in this
    /// order: the opcode, the request id, the status, the flags, then the payload, and throws the
    /// first problem with the request id and opcode filled in for the reply.
    public static func decode(
        frame: UnsafeRawBufferPointer,
        header: FrameHeader,
        limits: ConnectionLimits
    ) throws(WireError) -> RequestFrame {
        precondition(
            header.length >= WireProtocol.headerBytes && frame.count >= header.length,
            "decode(frame:header:) takes the whole frame the header was decoded from"
        )
        do {
            return try Self.decodeChecked(frame: frame, header: header, limits: limits)
        } catch var error {
            error.requestID = header.requestID
            error.opcode = header.opcode
            throw error
        }
    }

    private static func decodeChecked(
        frame: UnsafeRawBufferPointer,
        header: FrameHeader,
        limits: ConnectionLimits
    ) throws(WireError) -> RequestFrame {
        guard let opcode = Opcode(rawValue: header.opcode) else {
            throw WireError(.unknownOpcode, offset: 7, "opcode \(header.opcode) is not one this server knows")
        }
        guard header.requestID != 0 else {
            throw .malformed(.requestIDZero, at: 8, "request id 0 is reserved for replies the server sends on its own")
        }
        guard header.status == .ok else {
            throw .malformed(.statusNotZero, at: 16, "a request's status must be 0, not \(header.status.rawValue)")
        }
        let allowed = opcode.acceptsAppliedFlag ? FrameHeader.appliedFlag : 0
        guard header.flags & ~allowed == 0 else {
            throw .malformed(
                .flagsInvalid,
                at: 18,
                "flags 0x\(String(header.flags, radix: 16)) on \(opcode.name): "
                    + (opcode.acceptsAppliedFlag ? "only bit 0 (applied) is defined" : "this opcode takes no flag")
            )
        }
        let isApplied = header.flags & FrameHeader.appliedFlag != 0
        let consistency: ReadConsistency = isApplied ? .applied : .durable
        let payload = UnsafeRawBufferPointer(rebasing: frame[WireProtocol.headerBytes..<header.length])
        var reader = WireReader(payload, origin: WireProtocol.headerBytes)
        let request: Request
        switch opcode {
        case .handshake:
            request = .handshake(try HandshakeRequest.decode(&reader))
        case .ping:
            try reader.expectEnd()
            request = .ping
        case .statistics:
            try reader.expectEnd()
            request = .statistics
        case .submitBatch:
            request = .submitBatch(
                try SubmitBatchRequest.decode(
                    payload,
                    acknowledgement: isApplied ? .applied : .durable,
                    limits: limits
                )
            )
        case .waitUntilDurable:
            request = .waitUntilDurable(try WaitUntilDurableRequest.decode(&reader))
        case .balances:
            request = .balances(try BalancesRequest.decode(&reader, consistency: consistency, limits: limits))
        case .accounts:
            request = .accounts(try AccountsRequest.decode(&reader, consistency: consistency, limits: limits))
        case .aggregateBalance:
            request = .aggregateBalance(try AggregateBalanceRequest.decode(&reader, consistency: consistency))
        case .aggregateBalances:
            request = .aggregateBalances(try AggregateBalancesRequest.decode(&reader, consistency: consistency))
        case .assets:
            request = .assets(try AssetsRequest.decode(&reader, consistency: consistency, limits: limits))
        case .holds:
            request = .holds(try HoldsRequest.decode(&reader, consistency: consistency, limits: limits))
        case .transaction:
            request = .transaction(try TransactionRequest.decode(&reader, consistency: consistency))
        case .idempotencyRecord:
            request = .idempotencyRecord(try IdempotencyRequest.decode(&reader, consistency: consistency))
        }
        return RequestFrame(requestID: header.requestID, request)
    }
}
