import TallyCore

/// A seeded generator of realistic payment-platform traffic for a ``Ledger``: card and crypto
/// captures with fees, authorisations with increases, partial captures, voids and expiries, PSP
/// settlements (with FX), merchant payouts, refunds, chargebacks, rolling reserves, wrong-currency
/// deposits to suspense, reversals and manual adjustments.
///
/// The workload first emits its setup (the assets, then the chart of accounts, see
/// ``Configuration``), then flows. Follow-ups need ids the engine assigns (a hold's id, a
/// capture's transaction id), so the driver feeds every batch's results back:
///
/// ```swift
/// var workload = PaymentWorkload(configuration: .init(seed: 7))
/// var batch = OperationBatch()
/// var results: [OperationResult] = []
/// while running {
///     let time = workload.nextBatch(into: &batch, count: 1_000)
///     // apply ledger.dueHoldExpiries(at: time) as expire_hold operations first
///     ledger.apply(batch, at: time, results: &results)
///     workload.observe(results, of: batch)
/// }
/// ```
///
/// **Deterministic**: the operations depend only on the configuration and on the results fed
/// back, and the ledger's results depend only on the operations, so one seed gives one stream and
/// one final state digest.
///
/// **Realistic balances**: the workload tracks what each constrained account can spend, counting
/// a spend as soon as it is sent and income only once it is acknowledged, so payouts, refunds and
/// reserves stay within what merchants, banks and reserves actually have and rejections stay rare.
///
/// **Bounded and cheap**: follow-ups wait in fixed-capacity queues ordered by due time (when one
/// is full a new follow-up is dropped, and that hold simply expires), recent captures in a fixed
/// ring; operations are written straight into a reused ``OperationBatch`` from reused scratch
/// buffers, so the steady state allocates only for the rare duplicate retries.
public struct PaymentWorkload: Sendable {
    public let configuration: Configuration
    let layout: AccountLayout
    let assetCodes: [AssetCode]

    var random: SeededRandom
    /// Business time of the next operation (ns): the virtual clock.
    var clock: UInt64
    /// Engine time of the batch being built: the end of its span of business time.
    var batchTime: UInt64 = 0
    var keySequence: UInt64 = 0
    let keySalt: UInt64
    var paymentSequence: UInt64 = 0
    /// Setup operations emitted so far (assets, then accounts).
    var setupCursor = 0
    let setupTotal: Int

    /// Per account (dense index): for constrained accounts, what it can still spend as far as the
    /// workload knows (a lower bound); for PSP receivables, what the PSP is expected to owe.
    var headroom: [UInt128]

    let merchantCumulative: [Double]
    let fiatAssets: [Int]
    let fiatCumulative: [UInt64]
    let cryptoAssets: [Int]
    let cryptoCumulative: [UInt64]
    let flowCumulative: [UInt64]
    let authorisationCumulative: [UInt64]

    var authorisations: BoundedHeap<FollowUp>
    var reserves: BoundedHeap<FollowUp>
    var refundSettlements: BoundedHeap<FollowUp>
    var resolutions: BoundedHeap<FollowUp>
    var recentCaptures: [CaptureRecord] = []
    var recentCaptureNext = 0
    var retries: BoundedQueue<Operation>

    /// One entry per operation of the batch being built or awaiting results.
    var steps: [Step] = []
    var awaitingResults = false

    // Scratch buffers, reused by every operation.
    var legs: [Leg] = []
    var rates: [FXRate] = []
    var paymentID: [UInt8] = []
    var providerReference: [UInt8] = []

    public internal(set) var statistics: Statistics

    public init(configuration: Configuration) {
        configuration.validate()
        self.configuration = configuration
        self.layout = AccountLayout(configuration)
        self.assetCodes = configuration.assets.map(\.code)
        self.random = SeededRandom(seed: configuration.seed)
        self.clock = configuration.startTime.nanosecondsSinceEpoch
        self.keySalt = PaymentWorkload.mix(configuration.seed ^ 0x4B45_5953)
        self.setupTotal = configuration.assets.count + self.layout.count
        self.headroom = [UInt128](repeating: 0, count: self.layout.count)

        self.merchantCumulative = PaymentWorkload.zipfCumulative(
            merchants: configuration.merchants,
            skew: configuration.merchantSkew
        )
        let assets = configuration.assets
        self.fiatAssets = assets.indices.filter { !assets[$0].isCrypto }
        self.cryptoAssets = assets.indices.filter { assets[$0].isCrypto }
        // An asset class whose weights are all zero draws uniformly instead.
        func cumulative(_ indices: [Int]) -> [UInt64] {
            PaymentWorkload.cumulative(indices.map { assets[$0].trafficWeight })
                ?? PaymentWorkload.cumulative(indices.map { _ in 1 }) ?? []
        }
        self.fiatCumulative = cumulative(self.fiatAssets)
        self.cryptoCumulative = cumulative(self.cryptoAssets)
        self.flowCumulative = PaymentWorkload.cumulative(configuration.mix.weights)!
        self.authorisationCumulative = PaymentWorkload.cumulative(configuration.authorisations.weights)!

        self.authorisations = BoundedHeap(capacity: configuration.followUpCapacity)
        self.reserves = BoundedHeap(capacity: configuration.followUpCapacity)
        self.refundSettlements = BoundedHeap(capacity: configuration.followUpCapacity)
        self.resolutions = BoundedHeap(capacity: configuration.followUpCapacity)
        self.retries = BoundedQueue(capacity: configuration.retryCapacity)
        self.recentCaptures.reserveCapacity(configuration.recentCaptureCapacity)
        self.statistics = Statistics()

        self.legs.reserveCapacity(Limits.legsPerTransactionMax)
        self.rates.reserveCapacity(Limits.fxRatesPerTransactionMax)
        self.paymentID.reserveCapacity(Limits.externalReferenceBytesMax)
        self.providerReference.reserveCapacity(Limits.externalReferenceBytesMax)
    }

    // MARK: - Public surface

    /// True once every setup operation has been emitted; later batches carry flows.
    public var isSetUp: Bool { self.setupCursor == self.setupTotal }

    /// The number of setup operations: one per asset and one per account.
    public var setupOperationCount: Int { self.setupTotal }

    /// The number of accounts in the chart.
    public var accountCount: Int { self.layout.count }

    /// Business time of the next operation (the virtual clock).
    public var time: Timestamp { Timestamp(nanosecondsSinceEpoch: self.clock) }

    /// Follow-ups waiting in the queues.
    public var pendingFollowUps: Int {
        self.authorisations.count + self.reserves.count + self.refundSettlements.count + self.resolutions.count
    }

    /// The most follow-ups the queues can hold together; they never hold more.
    public var followUpCapacity: Int { 4 * self.configuration.followUpCapacity }

    /// Elements the workload's bounded buffers hold room for now (follow-up queues, recent
    /// captures, retries). It grows up to a fixed bound and no further, however long the run.
    public var bufferedElementCapacity: Int {
        self.authorisations.storageCapacity + self.reserves.storageCapacity + self.refundSettlements.storageCapacity
            + self.resolutions.storageCapacity + self.recentCaptures.count + self.retries.storageCount
    }

    /// The bound on ``bufferedElementCapacity``.
    public var bufferedElementCapacityMax: Int {
        self.followUpCapacity + self.configuration.recentCaptureCapacity + self.configuration.retryCapacity
    }

    /// The flow of operation `index` of the batch last filled by ``nextBatch(into:count:)``.
    public func flow(ofOperationAt index: Int) -> PaymentFlow {
        self.steps[index].flow
    }

    /// Empties `batch` and fills it with up to `count` operations (at most
    /// ``Limits/operationsPerBatchMax``); returns the engine time to apply it at.
    ///
    /// While setting up, the batch holds the next setup operations (possibly fewer than `count`)
    /// at the start time. Afterwards it holds exactly `count` operations spanning `count` business
    /// steps, and the time returned is the end of that span; due hold expiries should be applied
    /// at that time before the batch. Call ``observe(_:of:)`` with the batch's results before the
    /// next call.
    public mutating func nextBatch(into batch: inout OperationBatch, count: Int) -> Timestamp {
        precondition(!self.awaitingResults, "observe the results of the previous batch first")
        precondition(
            count >= 1 && count <= Limits.operationsPerBatchMax,
            "1 to \(Limits.operationsPerBatchMax) operations"
        )
        batch.removeAll(keepingCapacity: true)
        self.steps.removeAll(keepingCapacity: true)
        self.awaitingResults = true

        if !self.isSetUp {
            self.appendSetup(into: &batch, count: count)
            self.batchTime = self.clock
            return Timestamp(nanosecondsSinceEpoch: self.batchTime)
        }

        let step = self.configuration.businessStepNanoseconds
        let start = self.clock
        self.batchTime = start + UInt64(count) * step
        self.clock = self.batchTime

        while self.steps.count < count, let retry = self.retries.popFirst() {
            batch.append(retry)
            self.steps.append(Step(flow: .duplicateRetry))
        }
        while self.steps.count < count {
            let now = start + UInt64(self.steps.count) * step
            let room = count - self.steps.count
            if !self.appendDueFollowUp(into: &batch, now: now, room: room) {
                self.appendFreshFlow(into: &batch, now: now, room: room)
            }
        }
        precondition(batch.count == count && self.steps.count == count)
        self.statistics.retriesDropped = self.retries.dropped
        return Timestamp(nanosecondsSinceEpoch: self.batchTime)
    }

    /// Learns the results of the batch last filled: the ids of new holds and captures, and which
    /// movements happened, so follow-ups and balances stay true to the ledger.
    public mutating func observe(_ results: [OperationResult], of batch: OperationBatch) {
        precondition(self.awaitingResults, "no batch is waiting for results")
        precondition(results.count == self.steps.count && batch.count == self.steps.count, "results of another batch")
        self.awaitingResults = false
        for index in 0..<results.count {
            let result = results[index]
            let step = self.steps[index]
            self.statistics.count(step.flow, result)
            if result.isReplay {
                continue  // nothing happened this time
            }
            if result.code.isOK {
                self.gain(step.gain0)
                self.gain(step.gain1)
                if step.recordsCapture {
                    var capture = step.capture
                    capture.transaction = result.transactionID
                    self.remember(capture)
                }
                if step.queue != .none {
                    var followUp = step.followUp
                    if step.takesTransactionID {
                        followUp.transaction = result.transactionID
                    }
                    self.enqueue(followUp, in: step.queue)
                }
            } else {
                // A spend counted when the operation was sent did not happen.
                self.gain(step.spend0)
                self.gain(step.spend1)
            }
        }
        self.statistics.followUpsHighWater = max(self.statistics.followUpsHighWater, self.pendingFollowUps)
        self.statistics.followUpsDropped =
            self.authorisations.dropped + self.reserves.dropped + self.refundSettlements.dropped
            + self.resolutions.dropped
    }

    // MARK: - Setup

    private mutating func appendSetup(into batch: inout OperationBatch, count: Int) {
        let assets = self.configuration.assets
        while self.steps.count < count && self.setupCursor < self.setupTotal {
            if self.setupCursor < assets.count {
                let asset = assets[self.setupCursor]
                batch.append(.createAsset(CreateAsset(code: asset.code, scale: asset.scale)))
            } else {
                let slot = self.setupCursor - assets.count
                batch.append(.createAccount(self.layout.definition(at: slot, assetCodes: self.assetCodes)))
            }
            self.steps.append(Step(flow: .setup))
            self.setupCursor += 1
        }
    }

    // MARK: - Tracked balances

    /// A movement on a tracked account.
    struct Effect: Sendable {
        var slot: Int
        var amount: UInt128

        static let none = Effect(slot: -1, amount: 0)
    }

    @inline(__always)
    mutating func gain(_ effect: Effect) {
        guard effect.slot >= 0 else { return }
        let (sum, overflow) = self.headroom[effect.slot].addingReportingOverflow(effect.amount)
        self.headroom[effect.slot] = overflow ? UInt128.max : sum
    }

    /// Counts a spend now (saturating at zero) and returns what was counted, to give back if the
    /// operation is rejected.
    @inline(__always)
    mutating func spend(_ slot: Int, _ amount: UInt128) -> Effect {
        let taken = min(self.headroom[slot], amount)
        self.headroom[slot] -= taken
        return Effect(slot: slot, amount: taken)
    }

    // MARK: - Follow-ups

    enum Queue: UInt8, Sendable {
        case none
        case authorisations
        case reserves
        case refundSettlements
        case resolutions
    }

    /// A step some flow will take later, once it is due. Ordered by due time.
    struct FollowUp: Comparable, Sendable {
        enum Stage: UInt8, Sendable {
            case increase
            case capture
            case void
            case lateCapture
            case reserveRelease
            case reserveRetain
            case reservePayback
            case refundSettlement
            case suspenseResolution
        }

        /// Business time (ns) from which it may be taken.
        var due: UInt64
        /// The hold's deadline (ns), zero when none.
        var deadline: UInt64
        /// The hold acted on.
        var transaction: TransactionID
        /// What remains of the hold, or the amount to move.
        var amount: UInt128
        var payment: UInt64
        var merchant: Int32
        /// The PSP or the bank.
        var partner: Int16
        var asset: Int16
        var stage: Stage
        /// Captures still to come, the last one finishing the hold.
        var capturesLeft: UInt8
        /// Whether the last of the captures is a void instead (the rest of an order cancelled).
        var voidsAtEnd: Bool

        static let none = FollowUp(
            due: 0,
            deadline: 0,
            transaction: 0,
            amount: 0,
            payment: 0,
            merchant: 0,
            partner: 0,
            asset: 0,
            stage: .capture,
            capturesLeft: 0,
            voidsAtEnd: false
        )

        static func < (lhs: FollowUp, rhs: FollowUp) -> Bool {
            lhs.due < rhs.due
        }
    }

    private mutating func enqueue(_ followUp: FollowUp, in queue: Queue) {
        switch queue {
        case .none: break
        case .authorisations: self.authorisations.push(followUp)
        case .reserves: self.reserves.push(followUp)
        case .refundSettlements: self.refundSettlements.push(followUp)
        case .resolutions: self.resolutions.push(followUp)
        }
    }

    /// A capture remembered for refunds, chargebacks and reversals.
    struct CaptureRecord: Sendable {
        var transaction: TransactionID
        /// Engine time (ns) it was applied at.
        var time: UInt64
        var payment: UInt64
        /// What the PSP owes for it (and the most a refund or chargeback can be).
        var gross: UInt128
        /// What it credited the merchant (what reversing it debits).
        var net: UInt128
        var merchant: Int32
        var psp: Int16
        var asset: Int16
        /// Whether a refund, chargeback or reversal has used it.
        var isConsumed: Bool

        static let none = CaptureRecord(
            transaction: 0,
            time: 0,
            payment: 0,
            gross: 0,
            net: 0,
            merchant: 0,
            psp: 0,
            asset: 0,
            isConsumed: false
        )
    }

    private mutating func remember(_ capture: CaptureRecord) {
        if self.recentCaptures.count < self.configuration.recentCaptureCapacity {
            self.recentCaptures.append(capture)
        } else {
            self.recentCaptures[self.recentCaptureNext] = capture
            self.recentCaptureNext = (self.recentCaptureNext + 1) % self.recentCaptures.count
        }
    }

    /// What one operation of the batch means, and what to do with its result.
    struct Step: Sendable {
        var flow: PaymentFlow
        /// Where ``followUp`` goes when the operation succeeds.
        var queue = Queue.none
        /// Whether the follow-up acts on the transaction this operation creates (a new hold).
        var takesTransactionID = false
        var followUp = FollowUp.none
        /// Spends counted when the operation was sent; given back if it is rejected.
        var spend0 = Effect.none
        var spend1 = Effect.none
        /// Income counted once the operation succeeds.
        var gain0 = Effect.none
        var gain1 = Effect.none
        var recordsCapture = false
        var capture = CaptureRecord.none

        init(flow: PaymentFlow) {
            self.flow = flow
        }
    }

    // MARK: - Statistics

    /// Counts per ``PaymentFlow``.
    public struct FlowCounts: Hashable, Sendable, CustomStringConvertible {
        var counts = [Int](repeating: 0, count: PaymentFlow.allCases.count)

        public subscript(flow: PaymentFlow) -> Int {
            get { self.counts[Int(flow.rawValue)] }
            set { self.counts[Int(flow.rawValue)] = newValue }
        }

        /// The sum over all flows.
        public var total: Int { self.counts.reduce(0, +) }

        /// The non-zero counts, in flow order.
        public var nonZero: [(flow: PaymentFlow, count: Int)] {
            PaymentFlow.allCases.compactMap { self[$0] == 0 ? nil : ($0, self[$0]) }
        }

        /// `flow=count` for the non-zero counts, in flow order.
        public var description: String {
            self.nonZero.map { "\($0.flow)=\($0.count)" }.joined(separator: " ")
        }
    }

    /// What the workload has sent and learnt.
    public struct Statistics: Hashable, Sendable {
        /// Operations sent, by flow.
        public internal(set) var sent = FlowCounts()
        /// Operations that succeeded the first time (not replays), by flow.
        public internal(set) var succeeded = FlowCounts()
        /// Operations rejected (not replays), by flow.
        public internal(set) var rejected = FlowCounts()
        /// Operations answered with a remembered result, by flow.
        public internal(set) var replayed = FlowCounts()
        /// Follow-ups dropped because their queue was full (the oldest goes; its hold expires).
        public internal(set) var followUpsDropped = 0
        /// Follow-ups given up when their turn came: the hold's deadline had come, or the money they
        /// needed was gone.
        public internal(set) var followUpsAbandoned = 0
        /// Flows drawn with nothing to act on yet (say a payout before any income), sent as card
        /// captures instead.
        public internal(set) var fallbacks = 0
        /// Duplicate retries dropped because their queue was full.
        public internal(set) var retriesDropped = 0
        /// The most follow-ups waiting at once.
        public internal(set) var followUpsHighWater = 0

        mutating func count(_ flow: PaymentFlow, _ result: OperationResult) {
            self.sent[flow] += 1
            if result.isReplay {
                self.replayed[flow] += 1
            } else if result.code.isOK {
                self.succeeded[flow] += 1
            } else {
                self.rejected[flow] += 1
            }
        }
    }
}
