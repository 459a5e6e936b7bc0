/// An engine-assigned transaction identifier.
///
/// Ids start at 1 and increase by one for every applied transaction, without gaps: a rejected
/// operation never consumes an id. Zero means "no transaction".
public struct TransactionID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    public var rawValue: UInt64

    @inlinable
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    @inlinable
    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    @inlinable
    public init(integerLiteral value: UInt64) {
        self.rawValue = value
    }

    @inlinable
    public static func < (lhs: TransactionID, rhs: TransactionID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { String(self.rawValue) }
}
