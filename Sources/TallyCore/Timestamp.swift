/// A point in time: nanoseconds since the Unix epoch (UTC).
///
/// The core never reads a clock. Engine time is an input to ``Ledger/apply(_:at:results:)``;
/// effective (business) time is whatever the client says.
public struct Timestamp: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanosecondsSinceEpoch: UInt64

    @inlinable
    public init(nanosecondsSinceEpoch: UInt64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    @inlinable
    public init(rawValue: UInt64) {
        self.nanosecondsSinceEpoch = rawValue
    }

    @inlinable
    public init(secondsSinceEpoch: UInt64) {
        self.nanosecondsSinceEpoch = secondsSinceEpoch * Timestamp.nanosecondsPerSecond
    }

    @inlinable
    public var rawValue: UInt64 { self.nanosecondsSinceEpoch }

    /// The zero timestamp; as an effective time it means "not given".
    public static let zero = Timestamp(nanosecondsSinceEpoch: 0)

    public static let nanosecondsPerSecond: UInt64 = 1_000_000_000

    @inlinable
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    public var description: String { "\(self.nanosecondsSinceEpoch)ns" }
}
