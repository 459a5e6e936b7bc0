import CommitBenchmarkSupport
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the process and the machine were doing at one moment, from procfs: per-thread CPU time,
/// run-queue wait and page faults; the data disk's counters; dirty and writeback memory; pressure
/// stall totals. Differences of two samples describe a phase.
struct MachineSample: Sendable {
    struct ThreadCounters: Sendable {
        var name: String
        /// Time on a CPU and runnable but waiting for one (schedstat fields 1 and 2).
        var cpuNanoseconds: UInt64
        var waitNanoseconds: UInt64
        var minorFaults: UInt64
        var majorFaults: UInt64
        var nice: Int
    }

    /// /proc/diskstats of one device.
    struct DiskCounters: Sendable {
        var writes: UInt64 = 0
        var sectorsWritten: UInt64 = 0
        var writeMilliseconds: UInt64 = 0
        var reads: UInt64 = 0
        var sectorsRead: UInt64 = 0
        var busyMilliseconds: UInt64 = 0
        var discards: UInt64 = 0
        var sectorsDiscarded: UInt64 = 0
        var flushes: UInt64 = 0
        var flushMilliseconds: UInt64 = 0
    }

    var time: UInt64
    var threads: [Int32: ThreadCounters]
    var disk: DiskCounters
    var dirtyBytes: UInt64
    var writebackBytes: UInt64
    var residentBytes: UInt64
    /// /proc/pressure totals, microseconds: some task stalled on I/O, all stalled on I/O, some on CPU.
    var ioSomeMicroseconds: UInt64
    var ioFullMicroseconds: UInt64
    var cpuSomeMicroseconds: UInt64
    /// Clock ticks (/proc/stat, /proc/self/stat): every CPU busy (user, nice, system, irq, softirq),
    /// stolen by the hypervisor, and this process's user and system time. Busy minus this process
    /// is what everything else on the machine used.
    var machineBusyTicks: UInt64
    var stealTicks: UInt64
    var processTicks: UInt64

    static func take(device: String) -> MachineSample {
        let time = monotonicNanoseconds()
        var threads: [Int32: ThreadCounters] = [:]
        if let directory = opendir("/proc/self/task") {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard let tid = Int32(name) else { continue }
                let base = "/proc/self/task/\(tid)/"
                let schedule = (readSmallFile(base + "schedstat") ?? "").split(separator: " ").compactMap {
                    UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                let stat = readSmallFile(base + "stat") ?? ""
                var comm = "?"
                var minor: UInt64 = 0
                var major: UInt64 = 0
                var nice = 0
                if let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") {
                    comm = String(stat[stat.index(after: open)..<close])
                    // After "comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
                    // cmajflt utime stime cutime cstime priority nice.
                    let fields = stat[stat.index(after: close)...].split(separator: " ")
                    if fields.count > 16 {
                        minor = UInt64(fields[7]) ?? 0
                        major = UInt64(fields[9]) ?? 0
                        nice = Int(fields[16]) ?? 0
                    }
                }
                threads[tid] = ThreadCounters(
                    name: comm,
                    cpuNanoseconds: schedule.count > 0 ? schedule[0] : 0,
                    waitNanoseconds: schedule.count > 1 ? schedule[1] : 0,
                    minorFaults: minor,
                    majorFaults: major,
                    nice: nice
                )
            }
            closedir(directory)
        }
        var disk = DiskCounters()
        for line in (readSmallFile("/proc/diskstats") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 14, fields[2] == device else { continue }
            let value = { (index: Int) -> UInt64 in index < fields.count ? UInt64(fields[index]) ?? 0 : 0 }
            disk = DiskCounters(
                writes: value(7),
                sectorsWritten: value(9),
                writeMilliseconds: value(10),
                reads: value(3),
                sectorsRead: value(5),
                busyMilliseconds: value(12),
                discards: value(14),
                sectorsDiscarded: value(16),
                flushes: value(18),
                flushMilliseconds: value(19)
            )
        }
        var dirty: UInt64 = 0
        var writeback: UInt64 = 0
        for line in (readSmallFile("/proc/meminfo") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2 else { continue }
            if fields[0] == "Dirty:" {
                dirty = (UInt64(fields[1]) ?? 0) * 1_024
            } else if fields[0] == "Writeback:" {
                writeback = (UInt64(fields[1]) ?? 0) * 1_024
            }
        }
        let pages = (readSmallFile("/proc/self/statm") ?? "").split(separator: " ").compactMap { UInt64($0) }
        func pressure(_ path: String, _ kind: String) -> UInt64 {
            for line in (readSmallFile(path) ?? "").split(separator: "\n") where line.hasPrefix(kind) {
                for field in line.split(separator: " ") where field.hasPrefix("total=") {
                    return UInt64(field.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
                }
            }
            return 0
        }
        var busy: UInt64 = 0
        var steal: UInt64 = 0
        if let line = (readSmallFile("/proc/stat") ?? "").split(separator: "\n").first, line.hasPrefix("cpu ") {
            let ticks = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
            if ticks.count >= 8 {
                busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
                steal = ticks[7]
            }
        }
        var processTicks: UInt64 = 0
        let own = readSmallFile("/proc/self/stat") ?? ""
        if let close = own.lastIndex(of: ")") {
            let fields = own[own.index(after: close)...].split(separator: " ")
            if fields.count > 12 {
                processTicks = (UInt64(fields[11]) ?? 0) + (UInt64(fields[12]) ?? 0)
            }
        }
        return MachineSample(
            time: time,
            threads: threads,
            disk: disk,
            dirtyBytes: dirty,
            writebackBytes: writeback,
            residentBytes: (pages.count > 1 ? pages[1] : 0) * UInt64(sysconf(Int32(_SC_PAGESIZE))),
            ioSomeMicroseconds: pressure("/proc/pressure/io", "some"),
            ioFullMicroseconds: pressure("/proc/pressure/io", "full"),
            cpuSomeMicroseconds: pressure("/proc/pressure/cpu", "some"),
            machineBusyTicks: busy,
            stealTicks: steal,
            processTicks: processTicks
        )
    }
}

/// Takes a ``MachineSample`` every `intervalSeconds` on a thread of its own until stopped.
final class Sampler: @unchecked Sendable {
    // @unchecked: `samples` is behind a Mutex; the rest is immutable or atomic.
    private let samples = Mutex<[MachineSample]>([])
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(device: String, intervalSeconds: Double, registry: ThreadRegistry) {
        let thread = Thread { [self] in
            registry.registerCurrent(.sampler)
            while !self.stopping.load(ordering: .acquiring) {
                let sample = MachineSample.take(device: device)
                self.samples.withLock { $0.append(sample) }
                sleep(seconds: intervalSeconds)
            }
            self.done.signal()
        }
        thread.start()
    }

    /// A sample taken now, kept with the others (phase boundaries take one).
    func sampleNow(device: String) -> MachineSample {
        let sample = MachineSample.take(device: device)
        self.samples.withLock { samples in
            let index = samples.lastIndex { $0.time <= sample.time }.map { $0 + 1 } ?? 0
            samples.insert(sample, at: index)
        }
        return sample
    }

    func stop() -> [MachineSample] {
        self.stopping.store(true, ordering: .releasing)
        self.done.wait()
        return self.samples.withLock { $0 }
    }
}
