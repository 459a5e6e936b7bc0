import Glibc
import TallyWire

/// A blocking Unix-socket connection that speaks the wire protocol frame by frame, with nothing in
/// between: for tests that need exact control of the bytes (garbage, truncation, pipelining without
/// reading), for the fuzz test, and for measuring the server without a client library's overhead.
public final class WireSocket {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public let descriptor: Int32
    private var decoder = FrameDecoder()
    private var receiveBuffer = [UInt8](repeating: 0, count: 256 * 1024)
    private var nextID: UInt64 = 1

    /// Connects to the socket at `path`.
    public init(path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw Failure("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw Failure("connect \(path): \(message)")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(self.descriptor)
    }

    /// A fresh request id (1, 2, 3, ...).
    public func makeRequestID() -> UInt64 {
        defer { self.nextID += 1 }
        return self.nextID
    }

    /// Sends raw bytes; returns false when the peer has closed (EPIPE/ECONNRESET).
    @discardableResult
    public func send(_ bytes: [UInt8]) throws -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.send(self.descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { return false }
                throw Failure("send: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        return true
    }

    /// Encodes and sends `request` with a fresh id; returns the id.
    @discardableResult
    public func send(_ request: Request) throws -> UInt64 {
        let id = self.makeRequestID()
        var bytes: [UInt8] = []
        RequestFrame(requestID: id, request).encode(into: &bytes)
        try self.send(bytes)
        return id
    }

    /// The next reply frame; nil when the server closed the connection first. Throws on a timeout
    /// or on a reply that does not decode.
    public func receive(timeoutMilliseconds: Int32 = 10_000) throws -> ReplyFrame? {
        while true {
            if let next = self.decoder.nextReply() {
                switch next {
                case .success(let frame): return frame
                case .failure(let error): throw Failure("undecodable reply: \(error)")
                }
            }
            guard try self.fill(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        }
    }

    /// Sends `request` and waits for its reply (replies to other ids are an error here).
    public func roundTrip(_ request: Request, timeoutMilliseconds: Int32 = 10_000) throws -> ReplyFrame {
        let id = try self.send(request)
        guard let reply = try self.receive(timeoutMilliseconds: timeoutMilliseconds) else {
            throw Failure("the server closed the connection instead of answering request \(id)")
        }
        guard reply.requestID == id else {
            throw Failure("expected the reply to request \(id), got one to \(reply.requestID): \(reply)")
        }
        return reply
    }

    /// Reads until the server closes the connection; returns the replies received meanwhile.
    public func drainUntilClosed(timeoutMilliseconds: Int32 = 10_000) throws -> [ReplyFrame] {
        var replies: [ReplyFrame] = []
        while let reply = try self.receive(timeoutMilliseconds: timeoutMilliseconds) {
            replies.append(reply)
        }
        return replies
    }

    /// Whether the server has closed the connection (EOF or reset) within the timeout; bytes that
    /// arrive meanwhile are discarded.
    public func waitForClose(timeoutMilliseconds: Int32) -> Bool {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            var poller = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeoutMilliseconds)
            if ready <= 0 { return false }
            let count = recv(self.descriptor, &scratch, scratch.count, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    /// Shuts down the sending side (the server sees end of stream).
    public func shutdownWrite() {
        shutdown(self.descriptor, Int32(SHUT_WR))
    }

    /// Reads what is available into the decoder; false at end of stream.
    private func fill(timeoutMilliseconds: Int32) throws -> Bool {
        var poller = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&poller, 1, timeoutMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { throw Failure("poll: \(String(cString: strerror(errno)))") }
            if ready == 0 { throw Failure("no reply within \(timeoutMilliseconds) ms") }
            break
        }
        let count = self.receiveBuffer.withUnsafeMutableBytes { raw in
            recv(self.descriptor, raw.baseAddress!, raw.count, 0)
        }
        if count == 0 { return false }
        if count < 0 {
            if errno == ECONNRESET { return false }
            throw Failure("recv: \(String(cString: strerror(errno)))")
        }
        self.decoder.append(self.receiveBuffer[0..<count])
        return true
    }
}
