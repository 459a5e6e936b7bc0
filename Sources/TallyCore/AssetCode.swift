/// An asset code such as `USD`, `EUR`, `USDC` or `ETH`: 1 to 16 characters from `A`-`Z`, `0`-`9`,
/// `.`, `-` and `_`.
///
/// The code is packed into a `UInt128`, first character in the least significant byte, unused
/// bytes zero, so it is a fixed-size value with no heap storage.
public struct AssetCode: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public var rawValue: UInt128

    /// Wraps a packed value without checking it; ``isValid`` says whether it is a well-formed code.
    @inlinable
    public init(rawValue: UInt128) {
        self.rawValue = rawValue
    }

    /// Packs `text`, or returns nil when it is not a valid asset code.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 1, utf8.count <= AssetCode.lengthMax else { return nil }
        var value: UInt128 = 0
        for (index, byte) in utf8.enumerated() {
            guard AssetCode.isAllowed(byte) else { return nil }
            value |= UInt128(byte) << (index * 8)
        }
        self.rawValue = value
    }

    public init(stringLiteral value: String) {
        guard let code = AssetCode(value) else {
            preconditionFailure("invalid asset code literal \(value)")
        }
        self = code
    }

    /// The longest code, in characters.
    public static let lengthMax = 16

    /// True when the packed value holds 1 to 16 allowed characters followed only by zero bytes.
    public var isValid: Bool {
        var seenEnd = false
        var length = 0
        for index in 0..<AssetCode.lengthMax {
            let byte = UInt8(truncatingIfNeeded: self.rawValue >> (index * 8))
            if byte == 0 {
                seenEnd = true
            } else {
                guard !seenEnd, AssetCode.isAllowed(byte) else { return false }
                length += 1
            }
        }
        return length > 0
    }

    public var description: String {
        var bytes: [UInt8] = []
        for index in 0..<AssetCode.lengthMax {
            let byte = UInt8(truncatingIfNeeded: self.rawValue >> (index * 8))
            if byte == 0 { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func < (lhs: AssetCode, rhs: AssetCode) -> Bool {
        lhs.description < rhs.description
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}
