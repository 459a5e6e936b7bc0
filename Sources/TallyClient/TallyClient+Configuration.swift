import TallyWire

extension TallyClient {
    /// How a client connects, how long it waits, and how it combines single operations.
    public struct Configuration: Sendable {
        /// Sent in the handshake, for the server's logs: up to 64 bytes of UTF-8 (a longer name
        /// is cut at a character boundary).
        public var clientName: String
        /// The longest wait for the socket to connect and for the handshake's reply.
        public var connectTimeout: Duration
        /// The longest wait for each request's reply; must be positive. A wait for durability
        /// gets its own timeout plus this.
        public var requestTimeout: Duration
        /// The most operations ``TallyClient/submit(_:acknowledgement:)`` combines into one batch
        /// (the server's operations-per-request and frame limits cap it too); at least 1.
        public var coalescedOperationsMax: Int

        public init(
            clientName: String = "tally-client",
            connectTimeout: Duration = .seconds(5),
            requestTimeout: Duration = .seconds(30),
            coalescedOperationsMax: Int = 8_192
        ) {
            self.clientName = clientName
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.coalescedOperationsMax = coalescedOperationsMax
        }

        /// Throws ``TallyClientError/Code/invalidArgument`` for a value the client cannot use.
        func validate() throws(TallyClientError) {
            guard self.connectTimeout > .zero else {
                throw TallyClientError(
                    .invalidArgument,
                    "the connect timeout must be positive, not \(self.connectTimeout)"
                )
            }
            guard self.requestTimeout > .zero else {
                throw TallyClientError(
                    .invalidArgument,
                    "the request timeout must be positive, not \(self.requestTimeout)"
                )
            }
            guard self.coalescedOperationsMax >= 1 else {
                throw TallyClientError(
                    .invalidArgument,
                    "the most operations per coalesced batch must be at least 1, not \(self.coalescedOperationsMax)"
                )
            }
        }

        /// The client name cut to what a handshake carries.
        var handshakeClientName: String {
            let utf8 = self.clientName.utf8
            guard utf8.count > WireProtocol.nameBytesMax else { return self.clientName }
            var end = utf8.index(utf8.startIndex, offsetBy: WireProtocol.nameBytesMax)
            // Back off continuation bytes (10xxxxxx) to the start of a scalar.
            while end > utf8.startIndex && utf8[end] & 0xC0 == 0x80 {
                end = utf8.index(before: end)
            }
            return String(decoding: utf8[..<end], as: UTF8.self)
        }
    }
}
