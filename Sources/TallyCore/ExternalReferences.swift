/// The two external identifiers a transaction may carry.
public struct ExternalReferences: Hashable, Sendable {
    /// The commerce platform's payment id.
    public var paymentID: ExternalReference
    /// The payment service provider's reference.
    public var providerReference: ExternalReference

    @inlinable
    public init(paymentID: ExternalReference = .none, providerReference: ExternalReference = .none) {
        self.paymentID = paymentID
        self.providerReference = providerReference
    }

    public static let none = ExternalReferences()
}
