import TallyCore

/// Operations as pure functions of a stream and a sequence number: operation `n` of a stream has
/// the same key and the same content every time it is built, so a replay is built exactly like
/// the original, and no random generator runs in a measured region.
public enum Workload {
    /// The streams; each has its own keys.
    public enum Stream: UInt64, Sendable {
        case transfer = 1
        case capture = 2
        case hold = 3
        case holdCapture = 4
    }

    /// A hold's deadline: card authorisations lapse after about a week.
    public static let holdTimeoutSeconds: UInt32 = 7 * 86_400

    /// MurmurHash3's finaliser: a bijection, so distinct inputs give distinct outputs.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return x
    }

    /// A unique, random-looking, non-zero key: the high half is a hash of the low half, which
    /// holds the stream and the sequence number.
    @inlinable
    public static func key(_ stream: Stream, _ sequence: UInt64) -> IdempotencyKey {
        let low = stream.rawValue << 56 | (sequence & 0x00FF_FFFF_FFFF_FFFF)
        return IdempotencyKey(UInt128(mix(low)) << 64 | UInt128(low))
    }

    @inlinable
    static func draw(_ stream: Stream, _ sequence: UInt64) -> UInt64 {
        mix(sequence &* 0x9E37_79B9_7F4A_7C15 ^ stream.rawValue)
    }

    /// A 2-leg transfer between two distinct pool accounts, amount 1.00 to 10,000.99.
    @inlinable
    public static func appendTransfer(_ sequence: UInt64, to batch: inout OperationBatch, legs: inout [Leg]) {
        let draw = Workload.draw(.transfer, sequence)
        let debit = Int(draw % UInt64(Chart.poolCount))
        let offset = 1 + Int((draw >> 20) % UInt64(Chart.poolCount - 1))
        let credit = (debit + offset) % Chart.poolCount
        let amount = UInt128(100 + (draw >> 40) % 1_000_000)
        legs.removeAll(keepingCapacity: true)
        legs.append(.debit(Chart.pool(debit), amount))
        legs.append(.credit(Chart.pool(credit), amount))
        batch.appendPost(TransactionHeader(key: key(.transfer, sequence), type: .settlement), legs: legs)
    }

    /// A card capture with its fee: debit a PSP receivable the gross amount, credit the merchant
    /// payable the net and fee revenue the fee (2.9% + 0.30).
    @inlinable
    public static func appendCapture(_ sequence: UInt64, to batch: inout OperationBatch, legs: inout [Leg]) {
        let draw = Workload.draw(.capture, sequence)
        let psp = Int(draw % UInt64(Chart.pspCount))
        let merchant = Int((draw >> 8) % UInt64(Chart.poolCount))
        let gross = UInt128(1_000 + (draw >> 40) % 1_000_000)
        let fee = gross * 29 / 1_000 + 30
        legs.removeAll(keepingCapacity: true)
        legs.append(.debit(Chart.psp(psp), gross))
        legs.append(.credit(Chart.pool(merchant), gross - fee))
        legs.append(.credit(Chart.feeRevenue, fee))
        batch.appendPost(TransactionHeader(key: key(.capture, sequence), type: .capture), legs: legs)
    }

    /// The amount of hold `sequence`, which its capture takes in full.
    @inlinable
    public static func holdAmount(_ sequence: UInt64) -> UInt128 {
        UInt128(1_000 + (draw(.hold, sequence) >> 40) % 1_000_000)
    }

    /// An authorisation: a PSP receivable debited and a merchant payable credited, pending.
    @inlinable
    public static func appendHold(_ sequence: UInt64, to batch: inout OperationBatch) {
        let draw = Workload.draw(.hold, sequence)
        let terms = HoldTerms(
            debit: Chart.psp(Int(draw % UInt64(Chart.pspCount))),
            credit: Chart.pool(Int((draw >> 8) % UInt64(Chart.poolCount))),
            amount: holdAmount(sequence),
            timeoutSeconds: holdTimeoutSeconds
        )
        batch.appendHold(TransactionHeader(key: key(.hold, sequence), type: .capture), terms)
    }

    /// The full capture of hold `sequence`, which became transaction `hold`.
    @inlinable
    public static func appendHoldCapture(_ sequence: UInt64, hold: TransactionID, to batch: inout OperationBatch) {
        batch.appendCapture(
            TransactionHeader(key: key(.holdCapture, sequence), type: .capture),
            CaptureTerms(hold: hold, amount: holdAmount(sequence))
        )
    }
}
