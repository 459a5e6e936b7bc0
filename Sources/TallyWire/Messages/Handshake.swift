// handshake (opcode 0x01): optional, recommended as a connection's first request. Every server
// answers a version-1 handshake, whatever versions it speaks.
//
//   request                                reply
//   0  1  lowest version the client speaks   0   1  version both speak, the highest (0: none;
//   1  1  highest version                             the server closes after this reply)
//   2  1  client name length N (0-64)        1   1  lowest version the server speaks
//   3  N  client name, UTF-8 (for logs)      2   1  highest version the server speaks
//                                            3   1  flags: bit 0 this socket is read-only
//                                            4   4  frame bytes max (requests)
//                                            8   4  operations per request max
//                                            12  4  in-flight bytes per connection max
//                                            16  4  connections max
//                                            20  4  idle timeout, ms (0: none)
//                                            24  4  longest wait for durability, ms
//                                            28  1  server version length N (1-64)
//                                            29  N  server version, UTF-8

/// The handshake request: the protocol versions the client speaks, and its name for the logs.
public struct HandshakeRequest: Hashable, Sendable {
    /// Versions 1 to 255, lowest first.
    public var versions: ClosedRange<UInt8>
    /// Up to ``WireProtocol/nameBytesMax`` bytes of UTF-8; may be empty.
    public var clientName: String

    public init(versions: ClosedRange<UInt8> = WireProtocol.versionsSupported, clientName: String) {
        precondition(versions.lowerBound >= 1, "protocol versions start at 1")
        precondition(clientName.utf8.count <= WireProtocol.nameBytesMax, "a client name longer than 64 bytes")
        self.versions = versions
        self.clientName = clientName
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.versions.lowerBound)
        bytes.put(self.versions.upperBound)
        bytes.putText(self.clientName, lengthAs: UInt8.self, maximum: WireProtocol.nameBytesMax)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> HandshakeRequest {
        let versions = try decodeVersionRange(&reader, "the lowest version", "the highest version")
        let name = try reader.readText(UInt8.self, "the client name", maximum: WireProtocol.nameBytesMax)
        try reader.expectEnd()
        return HandshakeRequest(versions: versions, clientName: name)
    }
}

/// The handshake reply: versions, the connection's limits, and whether the socket is read-only.
public struct HandshakeReply: Hashable, Sendable {
    /// The highest version both sides speak; 0 when they share none (the server then closes).
    public var version: UInt8
    /// The versions the server speaks.
    public var versions: ClosedRange<UInt8>
    /// Whether this socket refuses every write (``ReplyStatus/readOnly``).
    public var isReadOnly: Bool
    public var limits: ConnectionLimits
    /// The server's release, up to ``WireProtocol/nameBytesMax`` bytes of UTF-8, at least one.
    public var serverVersion: String

    public init(
        version: UInt8,
        versions: ClosedRange<UInt8> = WireProtocol.versionsSupported,
        isReadOnly: Bool,
        limits: ConnectionLimits,
        serverVersion: String
    ) {
        precondition(versions.lowerBound >= 1, "protocol versions start at 1")
        precondition(version == 0 || versions.contains(version), "an agreed version the server does not speak")
        precondition(limits.problem == nil, "invalid limits: \(limits.problem?.message ?? "")")
        precondition(
            (1...WireProtocol.nameBytesMax).contains(serverVersion.utf8.count),
            "a server version of 1 to 64 bytes"
        )
        self.version = version
        self.versions = versions
        self.isReadOnly = isReadOnly
        self.limits = limits
        self.serverVersion = serverVersion
    }

    /// The reply a server that speaks `server` gives to `request`.
    public init(
        answering request: HandshakeRequest,
        versions server: ClosedRange<UInt8> = WireProtocol.versionsSupported,
        isReadOnly: Bool,
        limits: ConnectionLimits,
        serverVersion: String
    ) {
        let shared = request.versions.clamped(to: server)
        let agreed = request.versions.overlaps(server) ? shared.upperBound : 0
        self.init(
            version: agreed,
            versions: server,
            isReadOnly: isReadOnly,
            limits: limits,
            serverVersion: serverVersion
        )
    }

    static let readOnlyFlag: UInt8 = 1 << 0

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.version)
        bytes.put(self.versions.lowerBound)
        bytes.put(self.versions.upperBound)
        bytes.put(self.isReadOnly ? Self.readOnlyFlag : 0)
        bytes.put(UInt32(self.limits.frameBytesMax))
        bytes.put(UInt32(self.limits.operationsPerRequestMax))
        bytes.put(UInt32(self.limits.inFlightBytesMax))
        bytes.put(UInt32(self.limits.connectionsMax))
        bytes.put(self.limits.idleTimeoutMilliseconds)
        bytes.put(self.limits.waitTimeoutMaxMilliseconds)
        bytes.putText(self.serverVersion, lengthAs: UInt8.self, maximum: WireProtocol.nameBytesMax)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> HandshakeReply {
        let versionOffset = reader.offset
        let version: UInt8 = try reader.read("the agreed version")
        let versions = try decodeVersionRange(&reader, "the server's lowest version", "the server's highest version")
        guard version == 0 || versions.contains(version) else {
            throw .malformed(
                .valueOutOfRange,
                at: versionOffset,
                "the agreed version \(version) is not one the server speaks (\(versions.lowerBound) to \(versions.upperBound))"
            )
        }
        let flagsOffset = reader.offset
        let flags: UInt8 = try reader.read("the handshake flags")
        guard flags & ~Self.readOnlyFlag == 0 else {
            throw .malformed(.valueOutOfRange, at: flagsOffset, "handshake flags \(flags) set an undefined bit")
        }
        let limitsOffset = reader.offset
        var limits = ConnectionLimits.defaults
        limits.frameBytesMax = Int(try reader.read(UInt32.self, "the frame bytes max"))
        limits.operationsPerRequestMax = Int(try reader.read(UInt32.self, "the operations per request max"))
        limits.inFlightBytesMax = Int(try reader.read(UInt32.self, "the in-flight bytes max"))
        limits.connectionsMax = Int(try reader.read(UInt32.self, "the connections max"))
        limits.idleTimeoutMilliseconds = try reader.read("the idle timeout")
        limits.waitTimeoutMaxMilliseconds = try reader.read("the longest wait")
        if let problem = limits.problem {
            let field: Int
            switch problem.field {
            case .frameBytesMax: field = 0
            case .operationsPerRequestMax: field = 4
            case .inFlightBytesMax: field = 8
            case .connectionsMax: field = 12
            }
            throw .malformed(.valueOutOfRange, at: limitsOffset + field, problem.message)
        }
        let serverVersion = try reader.readText(
            UInt8.self,
            "the server version",
            maximum: WireProtocol.nameBytesMax,
            allowEmpty: false
        )
        try reader.expectEnd()
        return HandshakeReply(
            version: version,
            versions: versions,
            isReadOnly: flags & Self.readOnlyFlag != 0,
            limits: limits,
            serverVersion: serverVersion
        )
    }
}

/// Two bytes, lowest and highest version: 1 ≤ lowest ≤ highest.
private func decodeVersionRange(
    _ reader: inout WireReader,
    _ lowestField: StaticString,
    _ highestField: StaticString
) throws(WireError) -> ClosedRange<UInt8> {
    let lowestOffset = reader.offset
    let lowest: UInt8 = try reader.read(lowestField)
    let highest: UInt8 = try reader.read(highestField)
    guard lowest >= 1 else {
        throw .malformed(.valueOutOfRange, at: lowestOffset, "\(lowestField) is 0; versions start at 1")
    }
    guard highest >= lowest else {
        throw .malformed(
            .valueOutOfRange,
            at: lowestOffset + 1,
            "\(highestField) \(highest) is below \(lowestField) \(lowest)"
        )
    }
    return lowest...highest
}
