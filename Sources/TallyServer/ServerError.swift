/// The one error type of TallyServer: a stable code, a message, and the error underneath.
public struct ServerError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// The socket could not be created, bound or given its permissions.
        public static let bind = Code(name: "bind")
        /// Another server already answers on the socket path.
        public static let socketInUse = Code(name: "socket_in_use")
        /// The peer's credentials could not be read.
        public static let peerCredentials = Code(name: "peer_credentials")

        public var description: String { self.name }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        "\(self.code): \(self.message)" + (self.underlying.map { " (\($0))" } ?? "")
    }
}
