import Glibc
import TallyWire

/// How a ``TallyServer`` listens and whom it serves.
public struct ServerConfiguration: Sendable {
    /// The Unix socket for reads and writes.
    public var socketPath: String
    /// An optional second socket that serves reads and refuses every write with `read_only`: for
    /// support tooling that must never change the ledger.
    public var readOnlySocketPath: String?
    /// Permission bits of the socket files (created with them; no window with wider ones).
    /// Connecting to a Unix socket needs write permission on it, so these bits decide who may
    /// connect at all; ``writerUserIDs`` and ``writerGroupIDs`` then decide who may write.
    public var socketMode: mode_t
    /// The users whose connections may write on ``socketPath``, by the peer credentials the kernel
    /// reports (SO_PEERCRED). Root may always write. A connection by anyone else is served as
    /// read-only. Default: the server's own user.
    public var writerUserIDs: Set<uid_t>
    /// Groups whose members (by their primary group in the peer credentials) may write too.
    public var writerGroupIDs: Set<gid_t>
    /// The per-connection and per-server limits, reported in every handshake reply.
    public var limits: ConnectionLimits
    /// Event loop threads serving connections. The writer applies batches on its own thread (or on
    /// an event loop thread that finds it idle), so more loops than cores only add contention.
    public var eventLoopThreads: Int
    /// Whether an event loop syncs the journal itself for the durable writes it applied in one pass
    /// over its ready connections, when no sync is under way (default), instead of waking the
    /// journal's sync thread. A lone request then costs no thread wake-up and its reply is written
    /// by the thread that applied it; the loop blocks for that one `fdatasync`, during which its
    /// connections wait (they wait for the same sync either way). Off: the sync thread does every
    /// sync and the loop never blocks on the disk.
    public var syncOnEventLoop: Bool
    /// At shutdown, how long connections get to receive the replies of requests already in progress
    /// before they are closed regardless.
    public var shutdownDrainMilliseconds: Int64
    /// The server's release, reported in the handshake (1 to 64 bytes of UTF-8).
    public var serverVersion: String

    public init(
        socketPath: String,
        readOnlySocketPath: String? = nil,
        socketMode: mode_t = 0o600,
        writerUserIDs: Set<uid_t> = [geteuid()],
        writerGroupIDs: Set<gid_t> = [],
        limits: ConnectionLimits = .defaults,
        eventLoopThreads: Int = 1,
        syncOnEventLoop: Bool = true,
        shutdownDrainMilliseconds: Int64 = 30_000,
        serverVersion: String
    ) {
        precondition(eventLoopThreads >= 1, "at least one event loop thread")
        precondition(shutdownDrainMilliseconds >= 0, "a drain time of at least 0 ms")
        precondition(socketMode & ~0o777 == 0, "socket mode \(String(socketMode, radix: 8)) has bits beyond 0777")
        precondition(
            (1...WireProtocol.nameBytesMax).contains(serverVersion.utf8.count),
            "a server version of 1 to 64 bytes"
        )
        self.socketPath = socketPath
        self.readOnlySocketPath = readOnlySocketPath
        self.socketMode = socketMode
        self.writerUserIDs = writerUserIDs
        self.writerGroupIDs = writerGroupIDs
        self.limits = limits
        self.eventLoopThreads = eventLoopThreads
        self.syncOnEventLoop = syncOnEventLoop
        self.shutdownDrainMilliseconds = shutdownDrainMilliseconds
        self.serverVersion = serverVersion
    }

    /// Whether a peer with these credentials may write.
    func mayWrite(_ peer: PeerCredentials) -> Bool {
        peer.userID == 0 || self.writerUserIDs.contains(peer.userID) || self.writerGroupIDs.contains(peer.groupID)
    }
}
