#if canImport(Glibc)
import Glibc
#endif

/// What each thread of this process did, from procfs: CPU time, time spent runnable but waiting for
/// a core, and context switches. The difference of two samples tells whether the engine's writer
/// was busy all the time (writer-bound), how often the sync thread slept and woke, and whether a
/// thread was woken for nothing.
public struct ThreadActivity: Codable, Sendable {
    public struct Thread: Codable, Sendable {
        public var name: String
        /// Time on a CPU (schedstat field 1).
        public var cpuNanoseconds: UInt64
        /// Time runnable but not running: waiting for a core (schedstat field 2).
        public var runQueueNanoseconds: UInt64
        /// Blocking waits: every one is a sleep and a wake-up.
        public var voluntarySwitches: UInt64
        /// Preemptions.
        public var involuntarySwitches: UInt64
    }

    /// By thread name; threads of the same name are added up.
    public var threads: [String: Thread]

    /// The threads of this process now.
    public static func sample() -> ThreadActivity {
        var threads: [String: Thread] = [:]
        guard let directory = opendir("/proc/self/task") else { return ThreadActivity(threads: [:]) }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard tid.first?.isNumber == true else { continue }
            let base = "/proc/self/task/\(tid)/"
            // The main thread's id is the process's; other threads nobody named carry the process's
            // name, which says nothing: they are told apart from the main thread at least.
            let comm = (readSmallFile(base + "comm") ?? "?").trimmingNewline()
            let name = Int32(tid) == getpid() ? "main" : comm
            let schedule = (readSmallFile(base + "schedstat") ?? "").split(separator: " ").compactMap { UInt64($0) }
            var voluntary: UInt64 = 0
            var involuntary: UInt64 = 0
            for line in (readSmallFile(base + "status") ?? "").split(separator: "\n") {
                if line.hasPrefix("voluntary_ctxt_switches:") {
                    voluntary = UInt64(line.split(separator: "\t").last ?? "") ?? 0
                } else if line.hasPrefix("nonvoluntary_ctxt_switches:") {
                    involuntary = UInt64(line.split(separator: "\t").last ?? "") ?? 0
                }
            }
            var thread =
                threads[name]
                ?? Thread(
                    name: name,
                    cpuNanoseconds: 0,
                    runQueueNanoseconds: 0,
                    voluntarySwitches: 0,
                    involuntarySwitches: 0
                )
            thread.cpuNanoseconds += schedule.count > 0 ? schedule[0] : 0
            thread.runQueueNanoseconds += schedule.count > 1 ? schedule[1] : 0
            thread.voluntarySwitches += voluntary
            thread.involuntarySwitches += involuntary
            threads[name] = thread
        }
        return ThreadActivity(threads: threads)
    }

    /// What happened between `earlier` and this sample, for threads whose name starts with `prefix`
    /// (threads that ended in between are left out).
    public func since(_ earlier: ThreadActivity, prefix: String = "") -> ThreadActivity {
        var threads: [String: Thread] = [:]
        for (name, now) in self.threads where name.hasPrefix(prefix) {
            let before =
                earlier.threads[name]
                ?? Thread(
                    name: name,
                    cpuNanoseconds: 0,
                    runQueueNanoseconds: 0,
                    voluntarySwitches: 0,
                    involuntarySwitches: 0
                )
            threads[name] = Thread(
                name: name,
                cpuNanoseconds: now.cpuNanoseconds &- before.cpuNanoseconds,
                runQueueNanoseconds: now.runQueueNanoseconds &- before.runQueueNanoseconds,
                voluntarySwitches: now.voluntarySwitches &- before.voluntarySwitches,
                involuntarySwitches: now.involuntarySwitches &- before.involuntarySwitches
            )
        }
        return ThreadActivity(threads: threads)
    }

    /// One line per thread that ran: share of the interval on a CPU and waiting for one, sleeps
    /// (so wake-ups) per second, preemptions per second.
    public func lines(over nanoseconds: UInt64) -> [String] {
        let seconds = Double(nanoseconds) / 1e9
        let active = self.threads.values.filter { $0.cpuNanoseconds > 0 || $0.voluntarySwitches > 0 }
        return active.sorted { $0.name < $1.name }.map { thread in
            "\(thread.name.padding(to: 16)) cpu \(format(Double(thread.cpuNanoseconds) / Double(nanoseconds) * 100))%"
                + ", runnable-waiting \(format(Double(thread.runQueueNanoseconds) / Double(nanoseconds) * 100))%"
                + ", sleeps \(format(Double(thread.voluntarySwitches) / seconds, digits: 0))/s"
                + ", preempted \(format(Double(thread.involuntarySwitches) / seconds, digits: 0))/s"
        }
    }
}

extension String {
    func trimmingNewline() -> String {
        var text = self
        while text.last == "\n" {
            text.removeLast()
        }
        return text
    }
}
