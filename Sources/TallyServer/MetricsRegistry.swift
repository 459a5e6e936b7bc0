import Histogram
import Metrics
import NIOConcurrencyHelpers
import Synchronization
import TallyWire

/// An in-process swift-metrics backend. `tally serve` bootstraps it, so that every metric the
/// process creates (the server's request, operation, error, busy and connection counters, the open
/// connections gauge, the submit timer) is kept here, and the `statistics` reply, and so
/// `tally stats`, carries each as `metrics.<label>`: counters as counters, gauges and recorders by
/// their last value, timers as a count and microsecond percentiles. A process that embeds the
/// server bootstraps its own backend instead (Prometheus, StatsD, ...) and passes no registry.
///
/// Handlers are created once per label (swift-metrics objects are made once, with fixed labels);
/// a second `make` for the same label and dimensions returns the same handler.
public final class MetricsRegistry: MetricsFactory, Sendable {
    private let handlers = NIOLockedValueBox<[String: Handler]>([:])

    private enum Handler {
        case counter(CounterBox)
        case recorder(RecorderBox)
        case timer(TimerBox)
    }

    public init() {}

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        self.handler(Self.name(label, dimensions)) {
            .counter(CounterBox())
        } extract: {
            if case .counter(let box) = $0 { return box }
            return nil
        }
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        self.handler(Self.name(label, dimensions)) {
            .recorder(RecorderBox())
        } extract: {
            if case .recorder(let box) = $0 { return box }
            return nil
        }
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        self.handler(Self.name(label, dimensions)) {
            .timer(TimerBox())
        } extract: {
            if case .timer(let box) = $0 { return box }
            return nil
        }
    }

    // Metrics are made once and kept for the life of the process: nothing to release.
    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}

    /// Every metric as statistics, by name: `metrics.<label>` for counters and recorders;
    /// `metrics.<label>.count` and `.p50_us`, `.p99_us`, `.max_us` for timers.
    public func statistics() -> [Statistic] {
        let handlers = self.handlers.withLockedValue { $0 }.sorted { $0.key < $1.key }
        var out: [Statistic] = []
        for (name, handler) in handlers {
            switch handler {
            case .counter(let box):
                out.append(Statistic("metrics." + name, .counter, UInt64(clamping: box.value.load(ordering: .relaxed))))
            case .recorder(let box):
                out.append(Statistic("metrics." + name, .gauge, UInt64(clamping: box.value.load(ordering: .relaxed))))
            case .timer(let box):
                let (count, p50, p99, max) = box.summary()
                out.append(Statistic("metrics." + name + ".count", .counter, count))
                out.append(Statistic("metrics." + name + ".p50_us", .gauge, p50))
                out.append(Statistic("metrics." + name + ".p99_us", .gauge, p99))
                out.append(Statistic("metrics." + name + ".max_us", .gauge, max))
            }
        }
        return out
    }

    /// A label and its dimensions as one statistic name: lower case, characters outside a-z, 0-9,
    /// `_` and `.` replaced by `_`, dimensions appended as `.key_value`, cut to the longest name
    /// the protocol allows (less the room a timer's suffix takes).
    static func name(_ label: String, _ dimensions: [(String, String)]) -> String {
        var text = label
        for (key, value) in dimensions {
            text += ".\(key)_\(value)"
        }
        let bytes = text.lowercased().utf8.map { Statistic.isNameCharacter($0) ? $0 : UInt8(ascii: "_") }
        let room = WireProtocol.statisticNameBytesMax - "metrics.".utf8.count - ".count".utf8.count
        return String(decoding: bytes.prefix(room), as: UTF8.self)
    }

    private func handler<Box>(
        _ name: String,
        make: () -> Handler,
        extract: (Handler) -> Box?
    ) -> Box {
        self.handlers.withLockedValue { handlers in
            if let existing = handlers[name], let box = extract(existing) {
                return box
            }
            // A new name, or a name taken by another kind of metric (kept apart by a suffix).
            var key = name
            if handlers[key] != nil { key += "_" }
            let handler = make()
            handlers[key] = handler
            return extract(handler)!
        }
    }
}

final class CounterBox: CounterHandler, Sendable {
    let value = Atomic<Int64>(0)

    func increment(by amount: Int64) {
        self.value.wrappingAdd(amount, ordering: .relaxed)
    }

    func reset() {
        self.value.store(0, ordering: .relaxed)
    }
}

/// Keeps the last value recorded (gauges, and recorders whose aggregate is not kept here).
final class RecorderBox: RecorderHandler, Sendable {
    let value = Atomic<Int64>(0)

    func record(_ value: Int64) {
        self.value.store(value, ordering: .relaxed)
    }

    func record(_ value: Double) {
        // Not an amount: metric values may be floating point; kept here as whole numbers.
        self.value.store(value.isFinite ? Int64(clamping: Int(value.rounded())) : 0, ordering: .relaxed)
    }
}

/// Durations in microseconds, up to one minute (longer ones count as one minute).
final class TimerBox: TimerHandler, Sendable {
    private let histogram = NIOLockedValueBox(Histogram<UInt64>(highestTrackableValue: 60_000_000))

    func recordNanoseconds(_ duration: Int64) {
        let microseconds = UInt64(clamping: max(1, duration / 1_000))
        self.histogram.withLockedValue { _ = $0.record(min(microseconds, 60_000_000)) }
    }

    func summary() -> (count: UInt64, p50: UInt64, p99: UInt64, max: UInt64) {
        self.histogram.withLockedValue { histogram in
            guard histogram.totalCount > 0 else { return (0, 0, 0, 0) }
            return (
                histogram.totalCount, histogram.valueAtPercentile(50), histogram.valueAtPercentile(99),
                histogram.maxRecorded
            )
        }
    }
}
