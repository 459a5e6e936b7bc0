/// A 16-byte client idempotency key. The all-zero key is never valid.
///
/// The key is held as a `UInt128` whose little-endian bytes are the 16 bytes the client sent.
public struct IdempotencyKey: RawRepresentable, Hashable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    public var rawValue: UInt128

    @inlinable
    public init(rawValue: UInt128) {
        self.rawValue = rawValue
    }

    @inlinable
    public init(_ rawValue: UInt128) {
        self.rawValue = rawValue
    }

    @inlinable
    public init(integerLiteral value: UInt64) {
        self.rawValue = UInt128(value)
    }

    /// Builds a key from exactly 16 bytes (the first byte is the least significant).
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var value: UInt128 = 0
        for (shift, byte) in zip(stride(from: 0, to: 128, by: 8), bytes) {
            value |= UInt128(byte) << shift
        }
        self.rawValue = value
    }

    /// The 16 bytes of the key, least significant first.
    public var bytes: [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: self.rawValue >> ($0 * 8)) }
    }

    /// The key as 32 lowercase hexadecimal digits, in byte order.
    public var description: String {
        var text = ""
        text.reserveCapacity(32)
        for byte in self.bytes {
            text += byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }
        return text
    }
}
