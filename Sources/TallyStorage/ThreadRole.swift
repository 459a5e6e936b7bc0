import CTallySystem

/// What the calling thread does for Tally, kept in thread-local storage. The journal's sync thread
/// and the engine's writer thread mark themselves, so that the engine never runs a writer's work
/// on a thread that must stay free for its own (see `Engine.submit`).
public enum ThreadRole: Int32, Sendable {
    /// Any other thread: a caller.
    case caller = 0
    /// The journal's sync thread (``Journal``).
    case journalSync = 1
    /// The engine's writer thread.
    case engineWriter = 2

    /// The calling thread's role.
    public static var current: ThreadRole {
        get { ThreadRole(rawValue: tally_thread_role()) ?? .caller }
        set { tally_set_thread_role(newValue.rawValue) }
    }
}

/// The scheduling priority of engine threads.
public enum ThreadPriority {
    /// Lowers the calling thread's priority by `increment` nice steps (Linux gives each thread its
    /// own nice value), for background work that must leave the processor to the writer. Returns
    /// false when the system refused (the thread then runs at its old priority).
    @discardableResult
    public static func lowerCurrent(by increment: Int32) -> Bool {
        tally_lower_thread_priority(increment) == 0
    }
}
