import TallyCore

// The core's read types have no public initializers, so the model answers reads with its own plain
// values; each can be built from the core's counterpart so that tests compare like with like.
extension ReferenceLedger {
    /// An asset and its totals over every account.
    public struct Asset: Hashable, Sendable, CustomStringConvertible {
        public var code: AssetCode
        public var scale: UInt8
        public var totals: Balance

        public init(code: AssetCode, scale: UInt8, totals: Balance = .zero) {
            self.code = code
            self.scale = scale
            self.totals = totals
        }

        /// The same fields read from the core.
        public init(_ info: AssetInfo) {
            self.init(code: info.code, scale: info.scale, totals: info.totals)
        }

        public var description: String { "\(self.code)/\(self.scale) \(self.totals)" }
    }

    /// An account: definition, status and balance.
    public struct Account: Hashable, Sendable, CustomStringConvertible {
        public var id: AccountID
        public var asset: AssetCode
        public var kind: AccountKind
        public var normalSide: Side
        public var merchant: UInt64
        public var partner: UInt64
        public var flags: AccountFlags
        public var status: AccountStatus
        public var balance: Balance

        public init(
            id: AccountID,
            asset: AssetCode,
            kind: AccountKind,
            normalSide: Side,
            merchant: UInt64,
            partner: UInt64,
            flags: AccountFlags,
            status: AccountStatus = .open,
            balance: Balance = .zero
        ) {
            self.id = id
            self.asset = asset
            self.kind = kind
            self.normalSide = normalSide
            self.merchant = merchant
            self.partner = partner
            self.flags = flags
            self.status = status
            self.balance = balance
        }

        /// The same fields read from the core.
        public init(_ info: AccountInfo) {
            self.init(
                id: info.id,
                asset: info.asset,
                kind: info.kind,
                normalSide: info.normalSide,
                merchant: info.merchant,
                partner: info.partner,
                flags: info.flags,
                status: info.status,
                balance: info.balance
            )
        }

        /// True when posted debits equal posted credits and nothing is pending: closable.
        public var isSettled: Bool {
            self.balance.debitsPosted == self.balance.creditsPosted && self.balance.debitsPending == 0
                && self.balance.creditsPending == 0
        }

        public var description: String {
            "account \(self.id) \(self.asset) \(self.kind) \(self.normalSide) m\(self.merchant) p\(self.partner) "
                + "flags=\(self.flags.rawValue) \(self.status) \(self.balance)"
        }
    }

    /// An open hold.
    public struct Hold: Hashable, Sendable, CustomStringConvertible {
        public var id: TransactionID
        public var debit: AccountID
        public var credit: AccountID
        public var type: TransactionType
        /// The original amount plus every increase.
        public var amount: UInt128
        public var captured: UInt128
        /// Zero when the hold has no deadline.
        public var deadline: Timestamp

        public init(
            id: TransactionID,
            debit: AccountID,
            credit: AccountID,
            type: TransactionType,
            amount: UInt128,
            captured: UInt128 = 0,
            deadline: Timestamp = .zero
        ) {
            self.id = id
            self.debit = debit
            self.credit = credit
            self.type = type
            self.amount = amount
            self.captured = captured
            self.deadline = deadline
        }

        /// The same fields read from the core.
        public init(_ info: HoldInfo) {
            self.init(
                id: info.id,
                debit: info.debit,
                credit: info.credit,
                type: info.type,
                amount: info.amount,
                captured: info.captured,
                deadline: info.deadline
            )
        }

        /// What can still be captured or released.
        public var remaining: UInt128 { self.amount - self.captured }

        public var description: String {
            "hold \(self.id) \(self.debit)->\(self.credit) \(self.type) amount=\(self.amount) "
                + "captured=\(self.captured) deadline=\(self.deadline)"
        }
    }
}
