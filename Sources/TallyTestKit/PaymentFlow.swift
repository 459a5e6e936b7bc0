/// What one operation of a ``PaymentWorkload`` does in business terms.
///
/// A flow such as a card authorisation spans several operations (the hold, an increase, partial
/// captures, the fee on each capture, a void or an expiry); each operation is counted under the
/// step it performs, so a run's counts read like a payment platform's daily report.
public enum PaymentFlow: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Creating the assets and the chart of accounts.
    case setup
    /// A card payment captured at once: debit PSP receivable, credit merchant payable and fees.
    case cardCapture
    /// A USDC or ETH payment captured at once, with its fee.
    case cryptoCapture
    /// A card authorisation: a hold from the PSP receivable to the merchant payable.
    case authorisationHold
    /// An incremental authorisation (a tip, hotel incidentals).
    case authorisationIncrease
    /// A capture that leaves part of the authorisation open.
    case authorisationPartialCapture
    /// A capture that finishes the authorisation (all that remains, or marked final).
    case authorisationCapture
    /// The processing fee on an authorisation capture, linked to it in one atomic chain.
    case authorisationFee
    /// A cancelled authorisation.
    case authorisationVoid
    /// An authorisation left to run out, expired by the engine (issued by the driver, not the
    /// workload).
    case holdExpiry
    /// A merchant capturing after the authorisation ran out: rejected, deliberately.
    case lateCapture
    /// A PSP paying what it owes into a bank account of the same currency.
    case settlement
    /// A PSP paying in one currency into a bank account of another: one post, two assets, a rate.
    case fxSettlement
    /// Paying a merchant's available balance out to its bank.
    case payout
    /// A refund to the customer, straight against the PSP or through the refund liability.
    case refund
    /// The PSP settling a refund that was booked to the refund liability.
    case refundSettlement
    /// A chargeback, borne by the merchant or by the platform's chargeback reserve.
    case chargeback
    /// Topping the chargeback reserve up from fee revenue, linked to the chargeback it funds.
    case chargebackReserveTopUp
    /// A rolling reserve: part of a merchant's balance held back as a hold to the rolling reserve.
    case reserveHold
    /// A rolling reserve released back to the merchant (a void).
    case reserveRelease
    /// A rolling reserve retained (a capture into the rolling reserve account).
    case reserveRetention
    /// A retained reserve paid back to the merchant once its risk period is over.
    case reservePayback
    /// Money arriving in the wrong currency for its merchant, parked in suspense.
    case suspenseDeposit
    /// Suspense cleared: credited to the merchant, or returned to the sender.
    case suspenseResolution
    /// The reversal of a recent capture (a correction, the mirror image of the original).
    case reversal
    /// A manual adjustment, with the operator (actor) and a reason code.
    case adjustment
    /// A client resending an earlier operation with the same key and content: a replay.
    case duplicateRetry

    /// The snake_case name.
    public var name: String {
        switch self {
        case .setup: return "setup"
        case .cardCapture: return "card_capture"
        case .cryptoCapture: return "crypto_capture"
        case .authorisationHold: return "authorisation_hold"
        case .authorisationIncrease: return "authorisation_increase"
        case .authorisationPartialCapture: return "authorisation_partial_capture"
        case .authorisationCapture: return "authorisation_capture"
        case .authorisationFee: return "authorisation_fee"
        case .authorisationVoid: return "authorisation_void"
        case .holdExpiry: return "hold_expiry"
        case .lateCapture: return "late_capture"
        case .settlement: return "settlement"
        case .fxSettlement: return "fx_settlement"
        case .payout: return "payout"
        case .refund: return "refund"
        case .refundSettlement: return "refund_settlement"
        case .chargeback: return "chargeback"
        case .chargebackReserveTopUp: return "chargeback_reserve_top_up"
        case .reserveHold: return "reserve_hold"
        case .reserveRelease: return "reserve_release"
        case .reserveRetention: return "reserve_retention"
        case .reservePayback: return "reserve_payback"
        case .suspenseDeposit: return "suspense_deposit"
        case .suspenseResolution: return "suspense_resolution"
        case .reversal: return "reversal"
        case .adjustment: return "adjustment"
        case .duplicateRetry: return "duplicate_retry"
        }
    }

    /// True for the operations a workload sends knowing they will be rejected or replayed: late
    /// captures and duplicate retries. Rejection rates of a realistic workload leave them out.
    public var isDeliberate: Bool {
        switch self {
        case .lateCapture, .duplicateRetry:
            return true
        case .setup, .cardCapture, .cryptoCapture, .authorisationHold, .authorisationIncrease,
            .authorisationPartialCapture, .authorisationCapture, .authorisationFee, .authorisationVoid, .holdExpiry,
            .settlement, .fxSettlement, .payout, .refund, .refundSettlement, .chargeback, .chargebackReserveTopUp,
            .reserveHold, .reserveRelease, .reserveRetention, .reservePayback, .suspenseDeposit, .suspenseResolution,
            .reversal, .adjustment:
            return false
        }
    }

    public var description: String { self.name }
}
