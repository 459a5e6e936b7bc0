import NIOCore
import TallyCore
import TallyWire

/// The caller's side of a connection: encodes a request on the caller's thread, hands the frame to
/// the ``ConnectionHandler`` on the event loop, and suspends until the handler resumes it with the
/// reply. One hop to the event loop per request and none back beyond the continuation's.
struct ClientConnection: Sendable {
    let channel: Channel
    let handler: NIOLoopBound<ConnectionHandler>
    let requestIDs: RequestIDs

    /// Sends `request` and returns its ok reply; a reply with another status throws
    /// ``TallyClientError/Code/server``. A frame above `frameBytesMax` throws
    /// ``TallyClientError/Code/requestTooLarge`` without being sent.
    func perform(_ request: Request, timeout: TimeAmount, frameBytesMax: Int) async throws(TallyClientError) -> Reply {
        let requestID = self.requestIDs.next()
        var bytes: [UInt8] = []
        // Most requests are small; a submit reserves its exact size itself.
        bytes.reserveCapacity(64)
        RequestFrame(requestID: requestID, request).encode(into: &bytes)
        guard bytes.count <= frameBytesMax else {
            throw TallyClientError(
                .requestTooLarge,
                "the \(request.opcode.name) request takes \(bytes.count) bytes, more than the server's frame limit of \(frameBytesMax)"
            )
        }
        var buffer = self.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let frame = buffer
        let opcode = request.opcode
        let handler = self.handler
        let result = await withUnsafeContinuation { (continuation: ReplyContinuation) in
            handler.eventLoop.execute {
                handler.value.send(
                    frame,
                    requestID: requestID,
                    opcode: opcode,
                    timeout: timeout,
                    continuation: continuation
                )
            }
        }
        let reply = try result.get().reply
        if case .failure(let error) = reply {
            throw TallyClientError(server: error)
        }
        return reply
    }

    /// Hands one operation to the coalescer of its acknowledgement kind.
    func coalesce(
        _ operation: Operation,
        byteCount: Int,
        acknowledgement: Acknowledgement
    ) async throws(TallyClientError) -> OperationOutcome {
        let handler = self.handler
        let result = await withUnsafeContinuation { (continuation: OutcomeContinuation) in
            handler.eventLoop.execute {
                handler.value.coalesce(
                    operation,
                    byteCount: byteCount,
                    acknowledgement: acknowledgement,
                    continuation: continuation
                )
            }
        }
        return try result.get()
    }

    /// Closes the connection, failing every call in flight, and returns once the channel is closed.
    func close() async {
        let handler = self.handler
        handler.eventLoop.execute {
            handler.value.closeByClient()
        }
        try? await self.channel.closeFuture.get()
    }
}
