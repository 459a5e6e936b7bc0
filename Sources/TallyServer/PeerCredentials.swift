import CTallySystem
import Glibc
import NIOCore

/// Who is at the other end of a Unix socket connection, as the kernel saw it when the peer
/// connected (SO_PEERCRED): not something the peer can claim.
public struct PeerCredentials: Hashable, Sendable, CustomStringConvertible {
    public var processID: pid_t
    public var userID: uid_t
    public var groupID: gid_t

    public init(processID: pid_t, userID: uid_t, groupID: gid_t) {
        self.processID = processID
        self.userID = userID
        self.groupID = groupID
    }

    public var description: String { "pid \(self.processID), uid \(self.userID), gid \(self.groupID)" }

    /// Reads the credentials of `channel`'s peer. Must run on the channel's event loop.
    ///
    /// Not public and not inlinable on purpose: swift-nio asks that `unsafeGetSocketOption` with a
    /// libc type be called from such a function (SocketOptionProvider.swift).
    static func of(_ channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(
                ServerError(.peerCredentials, "the channel has no socket options")
            )
        }
        let future: EventLoopFuture<tally_ucred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET),
            name: SocketOptionName(SO_PEERCRED)
        )
        return future.map { PeerCredentials(processID: $0.pid, userID: $0.uid, groupID: $0.gid) }
    }
}
