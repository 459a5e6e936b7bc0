/// Balance constraints on an account. Both count pending holds, so a hold can never be captured
/// into a broken constraint.
public struct AccountFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Posted debits plus pending debits must never exceed posted credits
    /// (a credit-normal account that must not go negative).
    public static let debitsMustNotExceedCredits = AccountFlags(rawValue: 1 << 0)
    /// Posted credits plus pending credits must never exceed posted debits
    /// (a debit-normal account that must not go negative).
    public static let creditsMustNotExceedDebits = AccountFlags(rawValue: 1 << 1)

    /// Every defined flag; other bits are invalid.
    public static let all: AccountFlags = [.debitsMustNotExceedCredits, .creditsMustNotExceedDebits]
}
