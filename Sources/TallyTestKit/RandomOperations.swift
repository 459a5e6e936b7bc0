import TallyCore

/// A seeded generator of adversarial random batches for differential tests of the ledger core.
///
/// The universe is small so that operations collide: a handful of assets (one with scale 18, one
/// created late, one kept near the 128-bit volume limit by huge amounts), 78 planned accounts of
/// varied kinds, dimensions and balance constraints, and more created on the fly (often used in the
/// same batch) until the configured account limit rejects them. Batches mix every operation kind, valid and invalid, with retries of earlier keys, atomic
/// chains (some failing, some left open), engine expiries, and engine time that mostly creeps but
/// sometimes stands still, goes backwards or jumps hours ahead so that holds expire and key chunks
/// are dropped.
///
/// The generator reads the reference model (never the core) to aim its operations: which accounts
/// exist and what they hold, which holds are open, which transactions can be reversed. Call
/// ``observe(_:)`` after every batch.
public struct RandomOperations: Sendable {
    /// One batch of operations and the engine time to apply it at.
    public struct Batch: Sendable {
        public var time: Timestamp
        public var operations: [(operation: Operation, linked: Bool)]

        public init(time: Timestamp, operations: [(operation: Operation, linked: Bool)]) {
            self.time = time
            self.operations = operations
        }
    }

    /// The account limit the ledgers under test should be configured with: the 78 planned accounts
    /// plus 36 created on the fly, about one per 800 operations, so that `accounts_limit_reached`
    /// starts some 30,000 operations into a run.
    public static let accountsMax = 114
    /// The idempotency window the ledgers under test should be configured with: short, so that key
    /// chunks are dropped within a run.
    public static let idempotencyWindowSeconds: UInt64 = 2 * 3_600

    static let usd: AssetCode = "USD"
    static let jpy: AssetCode = "JPY"
    static let eth: AssetCode = "ETH"
    /// Created only after a while, so that accounts in it are first `asset_unknown`.
    static let eur: AssetCode = "EUR"
    /// Receives huge amounts from the start, so its volume sits near 2^128 - 1.
    static let big: AssetCode = "XBIG"
    /// Never created.
    static let gbp: AssetCode = "GBP"

    private var random: SeededRandom
    private var time: Timestamp
    /// Operations handed out so far.
    public private(set) var operationCount = 0

    /// Accounts the universe is made of, in id order.
    private let plannedAccounts: [CreateAccount]
    /// Operations that build the universe, handed out first.
    private var setupQueue: [Operation] = []
    private var eurQueued = false
    /// Accounts created on the fly (ids from 10,001), as their creations were sent.
    private var extraAccounts: [CreateAccount] = []
    private var extraAssetsCreated = 0

    /// Transactions already looked at by ``observe(_:)``.
    private var observedTransaction: TransactionID = 0
    /// Holds that were open when last seen; pruned lazily.
    private var holdCandidates: [TransactionID] = []
    /// Holds seen finished (a bounded sample).
    private var finishedHolds: [TransactionID] = []
    /// Posts and captures (reversal candidates).
    private var reversible: [TransactionID] = []
    /// Transactions of the other kinds (a bounded sample).
    private var irreversible: [TransactionID] = []
    /// Keyed operations handed out (a bounded sample), for retries.
    private var history: [Operation] = []
    /// The last keyed operations handed out, for retries inside the same batch or chain.
    private var recentHistory: [Operation] = []

    /// Per batch: the model's accounts by asset.
    private var accountsByAsset: [AssetCode: [ReferenceLedger.Account]] = [:]
    private var allAccounts: [ReferenceLedger.Account] = []
    private var assetsInUse: [AssetCode] = []
    /// Every asset the model knows at the start of the batch.
    private var assetsKnown: [AssetCode] = []

    /// A generator whose every choice follows from `seed`.
    public init(seed: UInt64, startTime: Timestamp = Timestamp(secondsSinceEpoch: 1_700_000_000)) {
        self.random = SeededRandom(seed: seed)
        self.time = startTime
        var planned: [CreateAccount] = []
        var plan = SeededRandom(seed: seed ^ 0xACC0)
        func asset(for id: UInt64) -> AssetCode {
            switch id {
            case 1...24: return RandomOperations.usd
            case 25...40: return RandomOperations.jpy
            case 41...60: return RandomOperations.eth
            case 61...72: return RandomOperations.eur
            default: return RandomOperations.big
            }
        }
        for id in UInt64(1)...78 {
            let kindCode = UInt16.random(in: 1...13, using: &plan)
            let kind: AccountKind
            let side: Side?
            if kindCode <= 10 {
                kind = AccountKind(rawValue: kindCode)
                side = plan.chance(0.3) ? kind.builtInNormalSide : nil
            } else {
                kind = AccountKind(rawValue: [1_000, 1_001, 65_535][Int(kindCode) - 11])
                side = plan.chance(0.5) ? .debit : .credit
            }
            let normal = side ?? kind.builtInNormalSide ?? .debit
            var flags: AccountFlags = []
            let roll = Double(plan.next() >> 11) * 0x1.0p-53
            if roll < 0.18 {
                flags = normal == .credit ? .debitsMustNotExceedCredits : .creditsMustNotExceedDebits
            } else if roll < 0.24 {
                flags = normal == .credit ? .creditsMustNotExceedDebits : .debitsMustNotExceedCredits
            }
            planned.append(
                CreateAccount(
                    id: AccountID(id),
                    asset: asset(for: id),
                    kind: kind,
                    normalSide: side,
                    merchant: UInt64.random(in: 0...4, using: &plan),
                    partner: UInt64.random(in: 0...3, using: &plan),
                    flags: flags
                )
            )
        }
        self.plannedAccounts = planned
        self.setupQueue = [
            .createAsset(CreateAsset(code: RandomOperations.usd, scale: 2)),
            .createAsset(CreateAsset(code: RandomOperations.jpy, scale: 0)),
            .createAsset(CreateAsset(code: RandomOperations.eth, scale: 18)),
            .createAsset(CreateAsset(code: RandomOperations.big, scale: 18)),
        ]
        // EUR accounts come first, before their asset exists.
        self.setupQueue += planned.filter { $0.asset == RandomOperations.eur }.prefix(3).map { .createAccount($0) }
        self.setupQueue += planned.filter { $0.asset != RandomOperations.eur }.map { .createAccount($0) }
    }

    // MARK: - Learning from the model

    /// Learns the transactions the model applied since the last call.
    public mutating func observe(_ model: ReferenceLedger) {
        while self.observedTransaction < model.lastTransaction {
            self.observedTransaction = TransactionID(self.observedTransaction.rawValue + 1)
            guard let record = model.transaction(self.observedTransaction) else { continue }
            switch record.kind {
            case .post, .capture:
                self.reversible.append(record.id)
            case .hold:
                self.holdCandidates.append(record.id)
                RandomOperations.remember(record.id, in: &self.irreversible, random: &self.random)
            case .createAsset, .createAccount, .setAccountStatus, .increaseHold, .voidHold, .expireHold, .reverse:
                RandomOperations.remember(record.id, in: &self.irreversible, random: &self.random)
            }
        }
    }

    /// Keeps a bounded, uniformly refreshed sample.
    private static func remember<Element>(
        _ element: Element,
        in sample: inout [Element],
        capacity: Int = 2_048,
        random: inout SeededRandom
    ) {
        if sample.count < capacity {
            sample.append(element)
        } else {
            sample[Int.random(in: 0..<capacity, using: &random)] = element
        }
    }

    // MARK: - Time

    /// The engine time of the next batch: mostly a few seconds later, sometimes the same, sometimes
    /// earlier than the ledger's recorded time, rarely hours later; and sometimes exactly on a
    /// boundary the model knows of (a hold's deadline, the instant a key chunk falls out of the
    /// window) or one nanosecond past it.
    public mutating func nextTime(observing model: ReferenceLedger) -> Timestamp {
        let second = Timestamp.nanosecondsPerSecond
        let now = max(self.time, model.recordedTime)
        let roll = self.unit()
        var nanoseconds = now.nanosecondsSinceEpoch
        if roll < 0.01 {
            nanoseconds -= min(nanoseconds, UInt64.random(in: 0...30 * second, using: &self.random))
        } else if roll < 0.2 {
            // Same time.
        } else if roll < 0.55 {
            nanoseconds += UInt64.random(in: 0...8, using: &self.random) * second
        } else if roll < 0.94 {
            nanoseconds += UInt64.random(in: 0...8 * second, using: &self.random)
        } else if roll < 0.96 {
            let deadlines = model.openHolds.map { $0.deadline.nanosecondsSinceEpoch }.filter { $0 >= nanoseconds }
            if let deadline = deadlines.min() {
                nanoseconds = deadline + (self.random.chance(0.3) && deadline < UInt64.max ? 1 : 0)
            }
        } else if roll < 0.97 {
            let window = RandomOperations.idempotencyWindowSeconds * second
            let boundaries = model.keyChunkNewestTimes.map { $0.nanosecondsSinceEpoch + window }.filter {
                $0 >= nanoseconds
            }
            if let boundary = boundaries.min() {
                nanoseconds = boundary + (self.random.chance(0.3) && boundary < UInt64.max ? 1 : 0)
            }
        } else if roll < 0.9995 {
            nanoseconds += UInt64.random(in: 1...300 * second, using: &self.random)
        } else {
            nanoseconds += UInt64.random(in: 3_600 * second...6 * 3_600 * second, using: &self.random)
        }
        // Time that went backwards is not kept: the next batch starts from the later of the two.
        let result = Timestamp(nanosecondsSinceEpoch: nanoseconds)
        if result > self.time { self.time = result }
        return result
    }

    // MARK: - Batches

    /// The next batch, given the hold expiries due at its time (``nextTime(observing:)``) and the
    /// model's current state.
    public mutating func nextBatch(
        dueExpiries: [TransactionID],
        model: ReferenceLedger
    ) -> [(operation: Operation, linked: Bool)] {
        self.refreshAccounts(model)
        if !self.eurQueued && self.operationCount > 1_500 {
            self.eurQueued = true
            self.setupQueue.append(.createAsset(CreateAsset(code: RandomOperations.eur, scale: 2)))
            self.setupQueue += self.plannedAccounts.filter { $0.asset == RandomOperations.eur }.map {
                .createAccount($0)
            }
        }

        var operations: [Operation] = []
        let roll = self.unit()
        if roll < 0.6 {
            operations += dueExpiries.map { .expireHold(hold: $0) }
        } else if roll < 0.85 {
            operations += dueExpiries.filter { _ in self.random.chance(0.5) }.map { .expireHold(hold: $0) }
        }
        if !self.setupQueue.isEmpty {
            let count = min(self.setupQueue.count, Int.random(in: 4...14, using: &self.random))
            operations += self.setupQueue.prefix(count)
            self.setupQueue.removeFirst(count)
        }
        var linked = [Bool](repeating: false, count: operations.count)
        let size = self.random.chance(0.005) ? 0 : Int.random(in: 1...16, using: &self.random)
        let newAccountsAllowed = self.eurQueued && self.setupQueue.isEmpty
        for _ in 0..<size {
            if newAccountsAllowed && self.random.chance(0.0012) {
                for entry in self.newAccount() {
                    operations.append(entry.operation)
                    linked.append(entry.linked)
                }
            }
            operations.append(self.nextOperation(model))
            linked.append(false)
        }
        if self.random.chance(0.15) && operations.count > 1 {
            operations.shuffle(using: &self.random)
            linked = [Bool](repeating: false, count: operations.count)
        }
        self.operationCount += operations.count

        // Chains of two to five operations, closed inside the batch; sometimes one left open.
        var index = 0
        while index < operations.count - 1 {
            if !linked[index] && self.random.chance(0.1) {
                let length = Int.random(in: 2...5, using: &self.random)
                let end = min(index + length - 1, operations.count - 1)
                for member in index..<end { linked[member] = true }
                index = end + 1
            } else {
                index += 1
            }
        }
        if !operations.isEmpty && self.random.chance(0.03) {
            linked[operations.count - 1] = true
        }
        return zip(operations, linked).map { (operation: $0, linked: $1) }
    }

    private mutating func refreshAccounts(_ model: ReferenceLedger) {
        self.allAccounts = model.allAccounts
        self.accountsByAsset = [:]
        for account in self.allAccounts {
            self.accountsByAsset[account.asset, default: []].append(account)
        }
        self.assetsKnown = model.allAssets.map { $0.code }
        self.assetsInUse = self.assetsKnown.filter { (self.accountsByAsset[$0]?.count ?? 0) >= 2 }
    }

    /// A new account, created and, half of the time, funded at once in an atomic chain. Later
    /// operations of the same batch may use it: the creation runs before them (or fails, and so do
    /// they, with `account_unknown`).
    private mutating func newAccount() -> [(operation: Operation, linked: Bool)] {
        let roll = self.unit()
        let asset: AssetCode
        if roll < 0.7 {
            asset =
                self.pick([RandomOperations.usd, RandomOperations.jpy, RandomOperations.eth, RandomOperations.eur])
                ?? RandomOperations.usd
        } else {
            asset = self.pick(self.assetsKnown) ?? RandomOperations.usd
        }
        let kind = AccountKind(rawValue: UInt16.random(in: 1...10, using: &self.random))
        let normalSide = kind.builtInNormalSide ?? .debit
        var flags: AccountFlags = []
        if self.random.chance(0.3) {
            flags = normalSide == .credit ? .debitsMustNotExceedCredits : .creditsMustNotExceedDebits
        }
        let body = CreateAccount(
            id: AccountID(10_001 + UInt64(self.extraAccounts.count)),
            asset: asset,
            kind: kind,
            merchant: UInt64.random(in: 0...5, using: &self.random),
            partner: UInt64.random(in: 0...4, using: &self.random),
            flags: flags
        )
        self.extraAccounts.append(body)
        let account = ReferenceLedger.Account(
            id: body.id,
            asset: asset,
            kind: kind,
            normalSide: normalSide,
            merchant: body.merchant,
            partner: body.partner,
            flags: flags
        )
        var operations: [(operation: Operation, linked: Bool)] = [(operation: .createAccount(body), linked: false)]
        let others = (self.accountsByAsset[asset] ?? []).filter { $0.status == .open && $0.flags.isEmpty }
        if self.random.chance(0.5), let other = self.pick(others) {
            let amount = self.amount(asset)
            // Fund it on the side its constraint needs.
            let side: Side = flags.contains(.creditsMustNotExceedDebits) ? .debit : .credit
            let legs = [
                Leg(account: account.id, side: side, amount: amount),
                Leg(account: other.id, side: side.opposite, amount: amount),
            ]
            operations[0].linked = self.random.chance(0.7)
            operations.append(
                (operation: .post(self.header(), legs: legs, fxRates: [], references: .none), linked: false)
            )
        }
        self.allAccounts.append(account)
        self.accountsByAsset[asset, default: []].append(account)
        if (self.accountsByAsset[asset]?.count ?? 0) >= 2 && !self.assetsInUse.contains(asset) {
            self.assetsInUse.append(asset)
        }
        return operations
    }

    private mutating func nextOperation(_ model: ReferenceLedger) -> Operation {
        let operation: Operation
        let roll = self.unit()
        switch roll {
        case ..<0.26: operation = self.post()
        case ..<0.29: operation = self.constraintBoundary(model)
        case ..<0.35: operation = self.brokenPost()
        case ..<0.41: operation = self.multiAssetPost()
        case ..<0.43: operation = self.hugePost()
        case ..<0.55: operation = self.hold()
        case ..<0.65: operation = self.capture(model)
        case ..<0.69: operation = self.increase(model)
        case ..<0.74: operation = self.void(model)
        case ..<0.76: operation = self.expire(model)
        case ..<0.82: operation = self.reverse(model)
        case ..<0.85: operation = self.statusChange()
        case ..<0.88: operation = self.accountCreation()
        case ..<0.895: operation = self.assetCreation()
        default: operation = self.retry()
        }
        if operation.header != nil {
            RandomOperations.remember(operation, in: &self.history, capacity: 4_096, random: &self.random)
            self.recentHistory.append(operation)
            if self.recentHistory.count > 24 { self.recentHistory.removeFirst() }
        }
        return operation
    }

    // MARK: - Headers

    private mutating func header() -> TransactionHeader {
        let key: IdempotencyKey = self.random.chance(0.01) ? 0 : IdempotencyKey(self.random.next128() | 1)
        var header = TransactionHeader(key: key, type: .capture)
        let roll = self.unit()
        switch roll {
        case ..<0.85:
            header.type = self.pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 11].map { TransactionType(rawValue: $0) }) ?? .capture
        case ..<0.9:
            header.type = .adjustment
            header.actor = UInt64.random(in: 1...1_000, using: &self.random)
            header.reason = UInt32.random(in: 1...100, using: &self.random)
        case ..<0.92:
            header.type = .adjustment
            if self.random.chance(0.5) {
                header.reason = 7
            } else {
                header.actor = 42
            }
        case ..<0.935:
            header.type = TransactionType(rawValue: self.pick([0, 12, 500, 999]) ?? 0)
        default:
            header.type = TransactionType(rawValue: UInt16.random(in: 1_000...UInt16.max, using: &self.random))
        }
        if self.random.chance(0.3) {
            header.effectiveTime = Timestamp(nanosecondsSinceEpoch: self.random.next() >> 2)
        }
        if header.type != .adjustment && self.random.chance(0.05) {
            header.actor = self.random.next() >> 40
        }
        return header
    }

    private mutating func references() -> ExternalReferences {
        let roll = self.unit()
        switch roll {
        case ..<0.85: return .none
        case ..<0.95: return ExternalReferences(paymentID: ExternalReference("pay_\(self.random.next() % 100_000)"))
        case ..<0.97:
            return ExternalReferences(
                paymentID: ExternalReference(bytes: [UInt8](repeating: 0x61, count: 64)),
                providerReference: ExternalReference(bytes: [UInt8](repeating: 0x62, count: 64))
            )
        case ..<0.985:
            return ExternalReferences(paymentID: ExternalReference(bytes: [UInt8](repeating: 0x61, count: 65)))
        default:
            return ExternalReferences(
                paymentID: "ok",
                providerReference: ExternalReference(
                    bytes: [UInt8](repeating: 0x62, count: 65 + Int(self.random.next() % 100))
                )
            )
        }
    }

    // MARK: - Posts

    /// A typical amount for the asset: log-uniform over its range.
    private mutating func amount(_ asset: AssetCode) -> UInt128 {
        let digits: Int
        switch asset {
        case RandomOperations.eth: digits = 21
        case RandomOperations.big: return self.hugeAmount()
        default: digits = 5
        }
        let magnitude = Int.random(in: 0..<digits, using: &self.random)
        var low: UInt128 = 1
        for _ in 0..<magnitude { low *= 10 }
        return UInt128.random(in: low...(low * 10), using: &self.random)
    }

    /// An amount near the top of the 128-bit range.
    private mutating func hugeAmount() -> UInt128 {
        let roll = self.unit()
        switch roll {
        case ..<0.2: return UInt128.max - UInt128(self.random.next() % 4)
        case ..<0.5: return UInt128.max / 2 + UInt128(self.random.next() % 3)
        case ..<0.8: return UInt128.random(in: (UInt128.max / 8)...(UInt128.max / 3), using: &self.random)
        default: return UInt128.random(in: 1...UInt128.max, using: &self.random)
        }
    }

    /// `count` distinct accounts of `asset` (fewer when the asset has fewer); mostly open ones, so
    /// that frozen and closed accounts do not reject most of the traffic.
    private mutating func accounts(of asset: AssetCode, count: Int) -> [ReferenceLedger.Account] {
        var candidates = self.accountsByAsset[asset] ?? []
        if self.random.chance(0.9) {
            let excluded: [AccountStatus] = self.random.chance(0.8) ? [.frozen, .closed] : [.closed]
            candidates.removeAll { excluded.contains($0.status) }
        }
        candidates.shuffle(using: &self.random)
        return Array(candidates.prefix(count))
    }

    /// Balanced legs over distinct accounts of one asset, each account mostly on the side its
    /// constraint allows, so that constrained accounts get funded before they are drawn on.
    private mutating func balancedLegs(_ asset: AssetCode, count: Int) -> [Leg] {
        let chosen = self.accounts(of: asset, count: count)
        guard chosen.count >= 2 else { return [] }
        var sides: [Side] = chosen.map { account in
            let preferred: Side
            if account.flags.contains(.debitsMustNotExceedCredits) {
                preferred = .credit
            } else if account.flags.contains(.creditsMustNotExceedDebits) {
                preferred = .debit
            } else {
                preferred = self.random.chance(0.5) ? .debit : .credit
            }
            return self.random.chance(0.2) ? preferred.opposite : preferred
        }
        if !sides.contains(.debit) { sides[0] = .debit }
        if !sides.contains(.credit) { sides[sides.count - 1] = .credit }
        let debitCount = sides.filter { $0 == .debit }.count
        let creditCount = sides.count - debitCount

        var debitParts: [UInt128] = []
        var total: UInt128 = 0
        for _ in 0..<debitCount {
            var part = self.amount(asset)
            if asset == RandomOperations.big { part = part / UInt128(max(debitCount, creditCount) + 1) + 1 }
            let (sum, overflow) = total.addingReportingOverflow(part)
            if overflow { break }
            debitParts.append(part)
            total = sum
        }
        while debitParts.count < debitCount {
            debitParts.append(1)
            total += 1
        }
        if total < UInt128(creditCount) {
            debitParts[0] += UInt128(creditCount) - total
            total = UInt128(creditCount)
        }
        var creditParts: [UInt128] = []
        var remaining = total
        for index in 0..<creditCount - 1 {
            let leftAfter = UInt128(creditCount - 1 - index)
            let part = UInt128.random(in: 1...(remaining - leftAfter), using: &self.random)
            creditParts.append(part)
            remaining -= part
        }
        creditParts.append(remaining)

        var legs: [Leg] = []
        var nextDebit = 0
        var nextCredit = 0
        for (account, side) in zip(chosen, sides) {
            switch side {
            case .debit:
                legs.append(.debit(account.id, debitParts[nextDebit]))
                nextDebit += 1
            case .credit:
                legs.append(.credit(account.id, creditParts[nextCredit]))
                nextCredit += 1
            }
        }
        return legs
    }

    private mutating func legCount() -> Int {
        self.random.chance(0.9)
            ? Int.random(in: 2...5, using: &self.random) : Int.random(in: 6...24, using: &self.random)
    }

    /// A post in one asset, valid by construction apart from balances and statuses.
    private mutating func post() -> Operation {
        let asset = self.pick(self.assetsInUse.filter { $0 != RandomOperations.big }) ?? RandomOperations.usd
        var legs = self.balancedLegs(asset, count: self.legCount())
        if legs.isEmpty { legs = [.debit(1, 1), .credit(2, 1)] }
        legs.shuffle(using: &self.random)
        var rates: [FXRate] = []
        if self.random.chance(0.02) {
            rates = [FXRate(base: asset, quote: RandomOperations.usd, numerator: 1, denominator: 1)]
        }
        return .post(self.header(), legs: legs, fxRates: rates, references: self.references())
    }

    /// A post with one thing wrong.
    private mutating func brokenPost() -> Operation {
        let asset = self.pick(self.assetsInUse) ?? RandomOperations.usd
        var legs = self.balancedLegs(asset, count: Int.random(in: 2...6, using: &self.random))
        if legs.count < 2 { legs = [.debit(1, 5), .credit(2, 5)] }
        var rates: [FXRate] = []
        let target = Int.random(in: 0..<legs.count, using: &self.random)
        switch Int.random(in: 0..<9, using: &self.random) {
        case 0:
            legs = Array(legs.prefix(Int.random(in: 0...1, using: &self.random)))
        case 1:
            while legs.count < 33 + Int.random(in: 0...1, using: &self.random) {
                legs.append(legs[legs.count % 2])
            }
        case 2:
            legs[target].amount = 0
        case 3:
            legs[target].account =
                self.random.chance(0.5) ? 0 : AccountID(UInt64.random(in: 79...9_999, using: &self.random))
        case 4:
            let other = legs[(target + 1) % legs.count]
            legs.append(Leg(account: other.account, side: other.side.opposite, amount: other.amount))
        case 5:
            legs[target].amount &+= 1
        case 6:
            rates = (0..<16).map {
                FXRate(base: asset, quote: AssetCode("Q\($0)") ?? asset, numerator: 1, denominator: 1)
            }
        case 7:
            // An account of another asset mixed in without rates.
            if let other = self.pick(self.assetsInUse.filter { $0 != asset }) {
                legs += self.balancedLegs(other, count: 2)
            }
        default:
            if let frozen = self.allAccounts.first(where: { $0.status != .open && $0.asset == asset }) {
                legs[target].account = frozen.id
            }
        }
        legs.shuffle(using: &self.random)
        return .post(self.header(), legs: legs, fxRates: rates, references: self.references())
    }

    /// A post over several assets with right, wrong, missing, duplicate or surplus FX rates.
    private mutating func multiAssetPost() -> Operation {
        var assets = self.assetsInUse
        assets.shuffle(using: &self.random)
        let count = min(assets.count, Int.random(in: 2...4, using: &self.random))
        assets = Array(assets.prefix(count))
        var legs: [Leg] = []
        for asset in assets {
            legs += self.balancedLegs(
                asset,
                count: Int.random(in: 2...(self.random.chance(0.2) ? 8 : 3), using: &self.random)
            )
        }
        legs.shuffle(using: &self.random)
        // A spanning tree over the assets, in random order.
        var rates: [FXRate] = []
        for index in assets.indices.dropFirst() {
            let other = assets[Int.random(in: 0..<index, using: &self.random)]
            let forward = self.random.chance(0.5)
            rates.append(
                FXRate(
                    base: forward ? assets[index] : other,
                    quote: forward ? other : assets[index],
                    numerator: UInt64.random(in: 1...1_000_000, using: &self.random),
                    denominator: UInt64.random(in: 1...1_000_000, using: &self.random)
                )
            )
        }
        rates.shuffle(using: &self.random)
        let roll = self.unit()
        if roll < 0.55 || rates.isEmpty {
            // Right.
        } else if roll < 0.62 {
            rates.removeLast()
        } else if roll < 0.66 {
            rates = []
        } else if roll < 0.72 {
            let target = Int.random(in: 0..<rates.count, using: &self.random)
            if self.random.chance(0.5) { rates[target].numerator = 0 } else { rates[target].denominator = 0 }
        } else if roll < 0.77 {
            let target = Int.random(in: 0..<rates.count, using: &self.random)
            rates[target].quote = rates[target].base
        } else if roll < 0.82 {
            let target = Int.random(in: 0..<rates.count, using: &self.random)
            rates[target].quote =
                self.pick([RandomOperations.gbp, RandomOperations.big, RandomOperations.jpy]) ?? RandomOperations.gbp
        } else if roll < 0.9 {
            let copied = rates[Int.random(in: 0..<rates.count, using: &self.random)]
            let duplicate =
                self.random.chance(0.5)
                ? FXRate(base: copied.quote, quote: copied.base, numerator: 3, denominator: 7) : copied
            rates.insert(duplicate, at: Int.random(in: 0...rates.count, using: &self.random))
        } else if assets.count >= 3 {
            // A surplus rate closing a cycle is still valid.
            rates.append(FXRate(base: assets[0], quote: assets[assets.count - 1], numerator: 2, denominator: 1))
        }
        return .post(self.header(), legs: legs, fxRates: rates, references: self.references())
    }

    /// Huge amounts: side sums or asset volumes beyond 2^128 - 1.
    private mutating func hugePost() -> Operation {
        var legs: [Leg] = []
        let roll = self.unit()
        if roll < 0.4 {
            // Often valid in the huge asset; the volume check decides.
            legs = self.balancedLegs(RandomOperations.big, count: Int.random(in: 2...4, using: &self.random))
        } else {
            // Random huge amounts over one or two assets: the side sums overflow.
            let assets = [
                self.pick(self.assetsInUse) ?? RandomOperations.usd,
                self.pick(self.assetsInUse) ?? RandomOperations.eth,
            ]
            for asset in assets {
                for account in self.accounts(of: asset, count: Int.random(in: 2...4, using: &self.random)) {
                    if legs.contains(where: { $0.account == account.id }) { continue }
                    let amount = self.random.chance(0.7) ? self.hugeAmount() : self.amount(asset)
                    legs.append(
                        Leg(account: account.id, side: self.random.chance(0.5) ? .debit : .credit, amount: amount)
                    )
                }
            }
        }
        if legs.count < 2 { legs = [.debit(1, UInt128.max), .debit(2, 1), .credit(3, 1)] }
        legs.shuffle(using: &self.random)
        return .post(self.header(), legs: legs, fxRates: [], references: self.references())
    }

    /// A post, hold or increase that takes a constrained account exactly to its limit, or one unit
    /// past it.
    private mutating func constraintBoundary(_ model: ReferenceLedger) -> Operation {
        let constrained = self.allAccounts.filter { !$0.flags.isEmpty && $0.status == .open }
        guard let account = self.pick(constrained) else { return self.post() }
        let balance = account.balance
        let side: Side
        let room: UInt128
        if account.flags.contains(.debitsMustNotExceedCredits) {
            side = .debit
            room = balance.creditsPosted &- balance.debitsPosted &- balance.debitsPending
        } else {
            side = .credit
            room = balance.debitsPosted &- balance.creditsPosted &- balance.creditsPending
        }
        let amount = self.random.chance(0.5) || room == UInt128.max ? room : room + 1
        let others = (self.accountsByAsset[account.asset] ?? []).filter {
            $0.id != account.id && $0.flags.isEmpty && $0.status == .open
        }
        guard let other = self.pick(others), amount != 0 else { return self.post() }
        let roll = self.unit()
        if roll < 0.5 {
            let legs: [Leg] = [
                Leg(account: account.id, side: side, amount: amount),
                Leg(account: other.id, side: side.opposite, amount: amount),
            ]
            return .post(
                self.header(),
                legs: self.random.chance(0.5) ? legs : legs.reversed(),
                fxRates: [],
                references: .none
            )
        }
        let debit = side == .debit ? account.id : other.id
        let credit = side == .debit ? other.id : account.id
        if roll < 0.8 {
            let terms = HoldTerms(debit: debit, credit: credit, amount: amount, timeoutSeconds: self.timeout())
            return .hold(self.header(), terms, references: .none)
        }
        // Increase an open hold on the account in the constrained direction, if there is one.
        let holds = model.openHolds.filter { side == .debit ? $0.debit == account.id : $0.credit == account.id }
        guard let hold = self.pick(holds) else { return self.post() }
        return .increaseHold(self.header(), IncreaseTerms(hold: hold.id, amount: amount), references: .none)
    }

    // MARK: - Holds

    private mutating func timeout() -> UInt32 {
        let roll = self.unit()
        switch roll {
        case ..<0.35: return 0
        case ..<0.5: return self.pick([1, 2, 5, 60]) ?? 1
        case ..<0.85: return UInt32.random(in: 1...300, using: &self.random)
        case ..<0.95: return UInt32.random(in: 300...7_200, using: &self.random)
        case ..<0.97: return 316_224_000
        default: return UInt32.random(in: 316_224_001...UInt32.max, using: &self.random)
        }
    }

    private mutating func hold() -> Operation {
        let asset = self.pick(self.assetsInUse) ?? RandomOperations.usd
        let pair = self.accounts(of: asset, count: 2)
        var debit = pair.first?.id ?? 1
        var credit = pair.last?.id ?? 2
        // Mostly the natural direction for constrained accounts.
        if let first = pair.first, first.flags.contains(.debitsMustNotExceedCredits), self.random.chance(0.7) {
            swap(&debit, &credit)
        }
        var amount = self.amount(asset)
        let roll = self.unit()
        if roll < 0.03 {
            credit = debit
        } else if roll < 0.06 {
            let other = self.pick(self.allAccounts.filter { $0.asset != asset })
            credit = other?.id ?? 9_999
        } else if roll < 0.08 {
            debit = self.random.chance(0.5) ? 0 : 77_777
        } else if roll < 0.10 {
            credit = 0
        } else if roll < 0.12 {
            amount = 0
        } else if roll < 0.14 {
            amount = self.hugeAmount()
        }
        let terms = HoldTerms(debit: debit, credit: credit, amount: amount, timeoutSeconds: self.timeout())
        return .hold(self.header(), terms, references: self.references())
    }

    /// An open hold as the model sees it, found by pruning stale candidates.
    private mutating func openHold(_ model: ReferenceLedger) -> ReferenceLedger.Hold? {
        for _ in 0..<6 {
            guard !self.holdCandidates.isEmpty else { return nil }
            let index = Int.random(in: 0..<self.holdCandidates.count, using: &self.random)
            let id = self.holdCandidates[index]
            if let hold = model.hold(id) {
                return hold
            }
            self.holdCandidates.swapAt(index, self.holdCandidates.count - 1)
            self.holdCandidates.removeLast()
            RandomOperations.remember(id, in: &self.finishedHolds, random: &self.random)
        }
        return nil
    }

    /// Some id that is not an open hold: finished holds, other transactions, unknown ids.
    private mutating func otherHoldID(_ model: ReferenceLedger) -> TransactionID {
        let roll = self.unit()
        if roll < 0.5, let finished = self.pick(self.finishedHolds) { return finished }
        if roll < 0.75, let other = self.pick(self.reversible) { return other }
        if roll < 0.9 {
            return TransactionID(model.lastTransaction.rawValue + UInt64.random(in: 1...5, using: &self.random))
        }
        return 0
    }

    private mutating func capture(_ model: ReferenceLedger) -> Operation {
        var terms = CaptureTerms(hold: 0, amount: 1, isFinal: self.random.chance(0.3))
        if self.random.chance(0.85), let hold = self.openHold(model) {
            terms.hold = hold.id
            let remaining = hold.remaining
            let roll = self.unit()
            if roll < 0.25 {
                terms.amount = remaining
            } else if roll < 0.85 {
                terms.amount = UInt128.random(in: 1...max(1, remaining), using: &self.random)
            } else if roll < 0.95 {
                terms.amount = remaining &+ UInt128.random(in: 1...100, using: &self.random)
                if terms.amount == 0 { terms.amount = 1 }
            } else {
                terms.amount = 0
            }
        } else {
            terms.hold = self.otherHoldID(model)
            terms.amount = UInt128.random(in: 1...100, using: &self.random)
        }
        return .capture(self.header(), terms, references: self.references())
    }

    private mutating func increase(_ model: ReferenceLedger) -> Operation {
        var terms = IncreaseTerms(hold: 0, amount: 1)
        if self.random.chance(0.85), let hold = self.openHold(model) {
            terms.hold = hold.id
            let asset = model.account(hold.debit)?.asset ?? RandomOperations.usd
            let roll = self.unit()
            terms.amount = roll < 0.05 ? 0 : roll < 0.1 ? self.hugeAmount() : self.amount(asset)
        } else {
            terms.hold = self.otherHoldID(model)
        }
        return .increaseHold(self.header(), terms, references: self.references())
    }

    private mutating func void(_ model: ReferenceLedger) -> Operation {
        let id: TransactionID
        if self.random.chance(0.8), let hold = self.openHold(model) {
            id = hold.id
        } else {
            id = self.otherHoldID(model)
        }
        return .voidHold(self.header(), hold: id, references: self.references())
    }

    private mutating func expire(_ model: ReferenceLedger) -> Operation {
        if self.random.chance(0.4), let hold = self.openHold(model) {
            return .expireHold(hold: hold.id)
        }
        return .expireHold(hold: self.otherHoldID(model))
    }

    // MARK: - Reversals

    private mutating func reverse(_ model: ReferenceLedger) -> Operation {
        let roll = self.unit()
        var id: TransactionID = 0
        if roll < 0.8, let candidate = self.pick(self.reversible) {
            id = candidate
        } else if roll < 0.9, let candidate = self.pick(self.irreversible) {
            id = candidate
        } else if roll < 0.97 {
            id = TransactionID(model.lastTransaction.rawValue + UInt64.random(in: 1...3, using: &self.random))
        }
        return .reverse(self.header(), transaction: id, references: self.references())
    }

    // MARK: - Accounts and assets

    private mutating func statusChange() -> Operation {
        let roll = self.unit()
        let account = self.pick(self.allAccounts)
        let id = account?.id ?? 1
        var change = SetAccountStatus(account: id, status: .frozen, actor: self.random.next() % 10, reason: 3)
        if roll < 0.3 {
            change.status = .frozen
        } else if roll < 0.65 {
            if let frozen = self.pick(self.allAccounts.filter { $0.status == .frozen }) {
                change.account = frozen.id
            }
            change.status = .open
        } else if roll < 0.8 {
            change.status = .closed
        } else if roll < 0.86 {
            // Close a settled account: the extra accounts and a few planned ones.
            let closable = self.allAccounts.filter {
                $0.isSettled && $0.status != .closed && ($0.id.rawValue > 10_000 || $0.id.rawValue % 13 == 0)
            }
            if let target = self.pick(closable) { change.account = target.id }
            change.status = .closed
        } else if roll < 0.9 {
            change.account = self.random.chance(0.5) ? 0 : 88_888
        } else {
            change.status = account?.status ?? .open
        }
        return .setAccountStatus(change)
    }

    private mutating func accountCreation() -> Operation {
        let roll = self.unit()
        var body = self.pick(self.plannedAccounts) ?? CreateAccount(id: 1, asset: RandomOperations.usd, kind: .bankCash)
        let exists = self.allAccounts.contains { $0.id == body.id }
        // Only the planned accounts get changed fields: their definitions are known for sure.
        switch roll {
        case ..<0.3:
            // As planned: created, or replayed.
            break
        case ..<0.45:
            // Changing a field of an account that does not exist yet would create a different one.
            guard exists else { break }
            switch Int.random(in: 0..<6, using: &self.random) {
            case 0: body.asset = body.asset == RandomOperations.usd ? RandomOperations.jpy : RandomOperations.usd
            case 1: body.kind = body.kind == .suspense ? .float : .suspense
            case 2: body.merchant &+= 1
            case 3: body.partner &+= 1
            case 4: body.flags = body.flags.isEmpty ? .debitsMustNotExceedCredits : []
            default: body.normalSide = body.kind.isCustom ? (body.normalSide ?? .debit).opposite : nil
            }
        case ..<0.5: body.id = 0
        case ..<0.55: body.kind = AccountKind(rawValue: self.pick([0, 11, 999]) ?? 0)
        case ..<0.6:
            body.kind = .merchantPayable
            body.normalSide = .debit
        case ..<0.65:
            body.kind = AccountKind(rawValue: 2_000)
            body.normalSide = nil
        case ..<0.7: body.flags = AccountFlags(rawValue: self.pick([3, 4, 0x8001]) ?? 3)
        case ..<0.78:
            body.asset = RandomOperations.gbp
        default:
            // An account created on the fly, again: a replay, or rejected at the limit.
            if let extra = self.pick(self.extraAccounts) { body = extra }
        }
        return .createAccount(body)
    }

    private mutating func assetCreation() -> Operation {
        let roll = self.unit()
        switch roll {
        case ..<0.3:
            return .createAsset(
                CreateAsset(
                    code: self.pick([RandomOperations.usd, RandomOperations.jpy, RandomOperations.eth])
                        ?? RandomOperations.usd,
                    scale: self.pick([0, 2, 18]) ?? 2
                )
            )
        case ..<0.5:
            // Lowercase, a gap, and the empty code are all invalid.
            let invalid: [UInt128] = [0x61, 0x41 | 0x42 << 16, 0, 0x2F]
            let raw = self.pick(invalid) ?? 0
            return .createAsset(CreateAsset(code: AssetCode(rawValue: raw), scale: 2))
        case ..<0.65:
            return .createAsset(CreateAsset(code: "NEW", scale: UInt8.random(in: 39...UInt8.max, using: &self.random)))
        default:
            // New assets, a few of them.
            self.extraAssetsCreated += 1
            let code = AssetCode("T\(self.extraAssetsCreated % 6)") ?? "T"
            return .createAsset(CreateAsset(code: code, scale: UInt8.random(in: 0...38, using: &self.random)))
        }
    }

    // MARK: - Retries

    /// An earlier keyed operation, resent as it was or with the same key and changed content.
    private mutating func retry() -> Operation {
        let recent = self.random.chance(0.3)
        guard let earlier = self.pick(recent ? self.recentHistory : self.history) else { return self.post() }
        if self.random.chance(0.65) { return earlier }
        switch earlier {
        case .post(var header, let legs, let fxRates, let references):
            header.effectiveTime = Timestamp(nanosecondsSinceEpoch: header.effectiveTime.nanosecondsSinceEpoch ^ 1)
            return .post(header, legs: legs, fxRates: fxRates, references: references)
        case .hold(let header, var terms, let references):
            terms.amount &+= 1
            return .hold(header, terms, references: references)
        case .capture(let header, var terms, let references):
            terms.isFinal.toggle()
            return .capture(header, terms, references: references)
        case .increaseHold(var header, let terms, let references):
            header.reason &+= 1
            return .increaseHold(header, terms, references: references)
        case .voidHold(let header, let hold, var references):
            references.providerReference = "changed"
            return .voidHold(header, hold: hold, references: references)
        case .reverse(var header, let transaction, let references):
            header.actor &+= 1
            return .reverse(header, transaction: transaction, references: references)
        case .createAsset, .createAccount, .setAccountStatus, .expireHold:
            return earlier
        }
    }

    // MARK: - Random helpers

    private mutating func unit() -> Double {
        Double(self.random.next() >> 11) * 0x1.0p-53
    }

    private mutating func pick<Element>(_ elements: [Element]) -> Element? {
        guard !elements.isEmpty else { return nil }
        return elements[Int.random(in: 0..<elements.count, using: &self.random)]
    }
}
