import Histogram

#if canImport(Glibc)
import Glibc
#endif

/// The monotonic clock, in nanoseconds.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Seconds on the monotonic clock since `start` (a `monotonicNanoseconds()` reading).
public func seconds(since start: UInt64) -> Double {
    Double(monotonicNanoseconds() - start) / 1e9
}

/// The calling thread's CPU time, in nanoseconds.
@inline(__always)
public func threadCPUNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Sleeps the calling thread.
public func sleep(seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR {
        request = remaining
    }
}

/// A latency distribution in nanoseconds (HdrHistogram, three significant digits, so every
/// percentile is within 0.1% of the recorded value).
public struct LatencyRecorder: Sendable {
    public private(set) var histogram: Histogram<UInt64>

    public init() {
        // Up to 100 s: a stalled sync must still be recorded, not dropped.
        self.histogram = Histogram(
            lowestDiscernibleValue: 1,
            highestTrackableValue: 100_000_000_000,
            numberOfSignificantValueDigits: .three
        )
    }

    @inline(__always)
    public mutating func record(_ nanoseconds: UInt64) {
        _ = self.histogram.record(max(nanoseconds, 1))
    }

    public mutating func add(_ other: LatencyRecorder) {
        self.histogram.add(other.histogram)
    }

    public var count: UInt64 { self.histogram.totalCount }

    public var summary: LatencySummary {
        LatencySummary(self.histogram)
    }
}

/// Percentiles of one latency distribution, in microseconds.
public struct LatencySummary: Codable, Sendable {
    public var count: UInt64
    public var meanMicroseconds: Double
    public var p50Microseconds: Double
    public var p90Microseconds: Double
    public var p99Microseconds: Double
    public var p999Microseconds: Double
    public var maxMicroseconds: Double

    public init(_ histogram: Histogram<UInt64>) {
        func microseconds(_ value: UInt64) -> Double { Double(value) / 1_000 }
        self.count = histogram.totalCount
        self.meanMicroseconds = histogram.totalCount == 0 ? 0 : histogram.mean / 1_000
        self.p50Microseconds = microseconds(histogram.valueAtPercentile(50))
        self.p90Microseconds = microseconds(histogram.valueAtPercentile(90))
        self.p99Microseconds = microseconds(histogram.valueAtPercentile(99))
        self.p999Microseconds = microseconds(histogram.valueAtPercentile(99.9))
        self.maxMicroseconds = microseconds(histogram.max)
    }

    /// `p50 43.1 µs, p90 …` for summaries.
    public var text: String {
        "p50 \(format(self.p50Microseconds)) p90 \(format(self.p90Microseconds)) "
            + "p99 \(format(self.p99Microseconds)) max \(format(self.maxMicroseconds)) "
            + "mean \(format(self.meanMicroseconds)) µs (n=\(self.count))"
    }
}

/// The median of several runs, with the lowest and highest run: what every summary reports.
public struct Spread: Codable, Sendable {
    public var median: Double
    public var min: Double
    public var max: Double
    public var runs: [Double]

    public init(_ values: [Double]) {
        precondition(!values.isEmpty, "a spread needs at least one run")
        let sorted = values.sorted()
        let middle = sorted.count / 2
        self.median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        self.min = sorted.first!
        self.max = sorted.last!
        self.runs = values
    }

    /// `123.4 [110.2-130.9]`, scaled and with `digits` decimals.
    public func text(scale: Double = 1, digits: Int = 1) -> String {
        "\(format(self.median * scale, digits: digits)) [\(format(self.min * scale, digits: digits))-"
            + "\(format(self.max * scale, digits: digits))]"
    }
}

/// A number with a fixed count of decimals and thousands separators in the integer part.
public func format(_ value: Double, digits: Int = 1) -> String {
    guard value.isFinite else { return "n/a" }
    let negative = value < 0
    var factor = 1.0
    for _ in 0..<digits {
        factor *= 10
    }
    let scaled = (abs(value) * factor).rounded()
    let whole = Int(scaled / factor)
    var text = String(whole)
    var grouped = ""
    while text.count > 3 {
        grouped = "," + text.suffix(3) + grouped
        text.removeLast(3)
    }
    grouped = text + grouped
    if digits > 0 {
        let fraction = Int(scaled - Double(whole) * factor)
        let fractionText = String(fraction)
        grouped += "." + String(repeating: "0", count: max(0, digits - fractionText.count)) + fractionText
    }
    return (negative ? "-" : "") + grouped
}

/// Megabytes (10^6 bytes) per second, as disks are quoted.
public func megabytesPerSecond(bytes: Double, nanoseconds: UInt64) -> Double {
    nanoseconds == 0 ? .nan : bytes / Double(nanoseconds) * 1e9 / 1e6
}
