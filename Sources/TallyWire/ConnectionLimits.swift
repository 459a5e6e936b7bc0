/// The limits a server applies to each connection, which its handshake reply reports. Each is at
/// most the protocol's ceiling (``WireProtocol``).
public struct ConnectionLimits: Hashable, Sendable {
    /// The largest request frame, header included: ``WireProtocol/frameBytesFloor`` to
    /// ``WireProtocol/frameBytesCeiling``. Replies are bounded by the ceiling alone.
    public var frameBytesMax: Int
    /// Operations in one submit, and items (ids, codes, page entries) in one read: 1 to
    /// ``WireProtocol/operationsPerRequestCeiling``.
    public var operationsPerRequestMax: Int
    /// Bytes of requests received on one connection and not yet answered. At the limit the server
    /// stops reading the connection until replies go out; it never refuses for it. At least
    /// ``frameBytesMax``, so that any accepted frame can be taken in.
    public var inFlightBytesMax: Int
    /// Connections served at once; one more is answered ``ReplyStatus/connectionLimit`` and closed.
    public var connectionsMax: Int
    /// A connection on which no request arrives and none is in progress for this long is answered
    /// ``ReplyStatus/idleTimeout`` and closed; 0 for never.
    public var idleTimeoutMilliseconds: UInt32
    /// The longest wait a ``WaitUntilDurableRequest`` may ask for; longer ones wait this long.
    public var waitTimeoutMaxMilliseconds: UInt32

    public init(
        frameBytesMax: Int = WireProtocol.frameBytesCeiling,
        operationsPerRequestMax: Int = WireProtocol.operationsPerRequestCeiling,
        inFlightBytesMax: Int = 32 << 20,
        connectionsMax: Int = 256,
        idleTimeoutMilliseconds: UInt32 = 300_000,
        waitTimeoutMaxMilliseconds: UInt32 = 60_000
    ) {
        self.frameBytesMax = frameBytesMax
        self.operationsPerRequestMax = operationsPerRequestMax
        self.inFlightBytesMax = inFlightBytesMax
        self.connectionsMax = connectionsMax
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.waitTimeoutMaxMilliseconds = waitTimeoutMaxMilliseconds
        if let problem = self.problem {
            preconditionFailure("invalid connection limits: \(problem)")
        }
    }

    /// What would make ``init(frameBytesMax:operationsPerRequestMax:inFlightBytesMax:connectionsMax:idleTimeoutMilliseconds:waitTimeoutMaxMilliseconds:)``
    /// trap on these values, in words; nil when they are valid. For checking user input first.
    public static func problem(
        frameBytesMax: Int,
        operationsPerRequestMax: Int,
        inFlightBytesMax: Int,
        connectionsMax: Int
    ) -> String? {
        var limits = ConnectionLimits.defaults
        limits.frameBytesMax = frameBytesMax
        limits.operationsPerRequestMax = operationsPerRequestMax
        limits.inFlightBytesMax = inFlightBytesMax
        limits.connectionsMax = connectionsMax
        return limits.problem?.message
    }

    /// The defaults: the largest frame and batch the protocol allows, 32 MiB in flight, 256
    /// connections, five minutes idle, one minute of waiting for durability.
    public static let defaults = ConnectionLimits()

    /// What breaks the limits' rules, or nil.
    var problem: (field: Field, message: String)? {
        if self.frameBytesMax < WireProtocol.frameBytesFloor || self.frameBytesMax > WireProtocol.frameBytesCeiling {
            return (
                .frameBytesMax,
                "frame bytes max \(self.frameBytesMax) is outside \(WireProtocol.frameBytesFloor) to \(WireProtocol.frameBytesCeiling)"
            )
        }
        if self.operationsPerRequestMax < 1 || self.operationsPerRequestMax > WireProtocol.operationsPerRequestCeiling {
            return (
                .operationsPerRequestMax,
                "operations per request max \(self.operationsPerRequestMax) is outside 1 to \(WireProtocol.operationsPerRequestCeiling)"
            )
        }
        if self.inFlightBytesMax < self.frameBytesMax || self.inFlightBytesMax > Int(UInt32.max) {
            return (
                .inFlightBytesMax,
                "in-flight bytes max \(self.inFlightBytesMax) is outside the frame limit \(self.frameBytesMax) to \(UInt32.max)"
            )
        }
        if self.connectionsMax < 1 || self.connectionsMax > Int(UInt32.max) {
            return (.connectionsMax, "connections max \(self.connectionsMax) is outside 1 to \(UInt32.max)")
        }
        return nil
    }

    /// The fields a handshake reply's decoder names in an error.
    enum Field {
        case frameBytesMax
        case operationsPerRequestMax
        case inFlightBytesMax
        case connectionsMax
    }
}
