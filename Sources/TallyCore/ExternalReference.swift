/// An identifier from outside the ledger (a payment id, a PSP reference): opaque bytes, at most
/// ``Limits/externalReferenceBytesMax`` of them. Stored and returned, never used as a key.
public struct ExternalReference: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var bytes: [UInt8]

    @inlinable
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// No reference.
    public static let none = ExternalReference(bytes: [])

    @inlinable
    public var isEmpty: Bool { self.bytes.isEmpty }

    /// The bytes as UTF-8 text (invalid sequences replaced).
    public var description: String { String(decoding: self.bytes, as: UTF8.self) }
}
