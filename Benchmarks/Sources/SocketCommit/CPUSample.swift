import CommitBenchmarkSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time at one instant: the whole machine's (from /proc/stat), the server's per thread name
/// (from /proc/<pid>/task/*/schedstat, in nanoseconds) and this process's (getrusage, which keeps
/// the time of threads that have ended). Two samples' difference splits a window's CPU into the
/// server's, the load generator's and everything else on the machine: the noise of a shared host.
struct CPUSample {
    var wallNanoseconds: UInt64
    /// Busy time of all cores (user, nice, system, irq, softirq, steal), in nanoseconds.
    var machineBusyNanoseconds: UInt64
    var serverThreads: [String: UInt64]
    /// Time the server's threads were runnable but waiting for a core (schedstat's second field).
    var serverRunQueueNanoseconds: UInt64
    var selfNanoseconds: UInt64

    static func take(serverPID: Int32) -> CPUSample {
        let (threads, runQueue) = Self.threads(of: serverPID)
        return CPUSample(
            wallNanoseconds: monotonicNanoseconds(),
            machineBusyNanoseconds: Self.machineBusy(),
            serverThreads: threads,
            serverRunQueueNanoseconds: runQueue,
            selfNanoseconds: Self.selfCPU()
        )
    }

    static func machineBusy() -> UInt64 {
        guard let text = readSmallFile("/proc/stat"), let line = text.split(separator: "\n").first,
            line.hasPrefix("cpu ")
        else { return 0 }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 8 else { return 0 }
        // user nice system idle iowait irq softirq steal: all but idle and iowait.
        let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
        let ticks = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        return busy * (1_000_000_000 / max(ticks, 1))
    }

    static func threads(of pid: Int32) -> (cpu: [String: UInt64], runQueue: UInt64) {
        var threads: [String: UInt64] = [:]
        var runQueue: UInt64 = 0
        let base = "/proc/\(pid)/task"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: base) else { return ([:], 0) }
        for tid in entries {
            let comm = (readSmallFile("\(base)/\(tid)/comm") ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
            let name = tid == String(pid) ? "main" : comm
            let fields = (readSmallFile("\(base)/\(tid)/schedstat") ?? "").split(separator: " ")
            let cpu = fields.first.flatMap { UInt64($0) } ?? 0
            threads[name, default: 0] += cpu
            runQueue += fields.count > 1 ? UInt64(fields[1]) ?? 0 : 0
        }
        return (threads, runQueue)
    }

    static func selfCPU() -> UInt64 {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func nanoseconds(_ time: timeval) -> UInt64 {
            UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_usec) * 1_000
        }
        return nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
    }
}

/// What a window's CPU went to, in cores (CPU seconds per second of wall clock).
struct CPUShare: Codable, Sendable {
    var seconds: Double
    var machineCores: Double
    var serverCores: Double
    var loadGeneratorCores: Double
    /// The machine's busy time that was neither the server's nor the load generator's.
    var otherCores: Double
    /// The server's threads by name (threads of one name added up), in cores.
    var serverThreads: [String: Double]
    /// The server's threads' time runnable but waiting for a core, in cores: CPU it wanted and the
    /// machine did not give.
    var serverRunQueueCores: Double
    var loadAverage1Minute: Double

    init(from start: CPUSample, to end: CPUSample) {
        let wall = Double(max(end.wallNanoseconds - start.wallNanoseconds, 1))
        func cores(_ value: UInt64, _ earlier: UInt64) -> Double { Double(Int64(bitPattern: value &- earlier)) / wall }
        self.seconds = wall / 1e9
        self.machineCores = cores(end.machineBusyNanoseconds, start.machineBusyNanoseconds)
        var threads: [String: Double] = [:]
        for (name, value) in end.serverThreads {
            let share = cores(value, start.serverThreads[name] ?? 0)
            if share > 0.0005 { threads[name] = share }
        }
        self.serverThreads = threads
        self.serverCores = threads.values.reduce(0, +)
        self.serverRunQueueCores = cores(end.serverRunQueueNanoseconds, start.serverRunQueueNanoseconds)
        self.loadGeneratorCores = cores(end.selfNanoseconds, start.selfNanoseconds)
        self.otherCores = max(0, self.machineCores - self.serverCores - self.loadGeneratorCores)
        self.loadAverage1Minute =
            readSmallFile("/proc/loadavg")?.split(separator: " ").first.flatMap { Double($0) } ?? .nan
    }

    var text: String {
        let threads = self.serverThreads.sorted { $0.value > $1.value }.prefix(6)
            .map { "\($0.key) \(format($0.value, digits: 2))" }.joined(separator: ", ")
        return "cores: server \(format(self.serverCores, digits: 2)) (\(threads); waiting for a core "
            + "\(format(self.serverRunQueueCores, digits: 2))), load generator "
            + "\(format(self.loadGeneratorCores, digits: 2)), others \(format(self.otherCores, digits: 2)); "
            + "load \(format(self.loadAverage1Minute, digits: 2))"
    }
}

/// Takes a ``CPUSample`` at two given instants on a thread of its own, for windows that a task
/// group or many threads run through.
final class WindowSampler: @unchecked Sendable {
    // @unchecked: `samples` is written by the sampling thread before `done` is signalled and read
    // after waiting for it.
    private var samples: [CPUSample] = []
    private let done = DispatchSemaphore(value: 0)

    init(serverPID: Int32, start: UInt64, end: UInt64) {
        let thread = Thread { [self] in
            for instant in [start, end] {
                let now = monotonicNanoseconds()
                if instant > now { sleep(seconds: Double(instant - now) / 1e9) }
                self.samples.append(CPUSample.take(serverPID: serverPID))
            }
            self.done.signal()
        }
        thread.start()
    }

    func finish() -> CPUShare {
        self.done.wait()
        return CPUShare(from: self.samples[0], to: self.samples[1])
    }
}
