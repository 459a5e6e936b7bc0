import Synchronization

/// What a test waited for did not come.
struct MailboxTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(self.what)" }
}

/// An unbounded queue between an event loop and a test: `post` from anywhere, `next` waits with a
/// timeout, so that a broken client fails a test instead of hanging it.
final class Mailbox<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Element, any Error>)] = []
        var nextWaiterID: UInt64 = 0
    }

    private let state = Mutex(State())
    private let name: String

    init(_ name: String) {
        self.name = name
    }

    func post(_ element: Element) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Element, any Error>? in
            if state.waiters.isEmpty {
                state.items.append(element)
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: element)
    }

    /// Elements posted and not taken.
    var count: Int { self.state.withLock { $0.items.count } }

    func next(timeout: Duration = .seconds(5)) async throws -> Element {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element, any Error>) in
            let outcome = self.state.withLock { state -> Result<Element, Never>? in
                if !state.items.isEmpty {
                    return .success(state.items.removeFirst())
                }
                let id = state.nextWaiterID
                state.nextWaiterID += 1
                state.waiters.append((id, continuation))
                Task {
                    try? await Task.sleep(for: timeout)
                    let expired = self.state.withLock { state -> CheckedContinuation<Element, any Error>? in
                        guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                        return state.waiters.remove(at: index).continuation
                    }
                    expired?.resume(throwing: MailboxTimeout(what: self.name))
                }
                return nil
            }
            if case .success(let element) = outcome {
                continuation.resume(returning: element)
            }
        }
    }
}
