import TallyCore
import TallyTestKit
import TallyWire

/// Seeded random requests, replies and the values inside them, covering every field's range
/// (extremes included) so that round trips exercise every byte of every layout.
struct WireRandom {
    /// Not Foundation's.
    typealias Operation = TallyCore.Operation

    var random: SeededRandom

    init(seed: UInt64) {
        self.random = SeededRandom(seed: seed)
    }

    // MARK: - Scalars

    mutating func chance(_ probability: Double) -> Bool { self.random.chance(probability) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self.random) }

    /// Often an extreme (0, 1, the maximum), otherwise any value.
    mutating func value<T: FixedWidthInteger & UnsignedInteger>(_: T.Type = T.self) -> T {
        switch self.int(0...9) {
        case 0: return 0
        case 1: return 1
        case 2: return T.max
        default: return T(truncatingIfNeeded: self.random.next128())
        }
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: self.random.next()) }
    }

    /// Valid UTF-8 of at most `maximum` bytes, with multi-byte characters.
    mutating func text(maximum: Int, allowEmpty: Bool = true) -> String {
        let pieces = ["a", "Z", "0", "-", " ", "é", "€", "🙂", "ß", "_"]
        var text = ""
        let target = self.int((allowEmpty ? 0 : 1)...maximum)
        while true {
            let piece = pieces[self.int(0...pieces.count - 1)]
            if text.utf8.count + piece.utf8.count > target {
                break
            }
            text += piece
        }
        if !allowEmpty && text.isEmpty {
            text = "x"
        }
        return text
    }

    mutating func balance() -> Balance {
        Balance(
            debitsPosted: self.value(),
            creditsPosted: self.value(),
            debitsPending: self.value(),
            creditsPending: self.value()
        )
    }

    mutating func side() -> Side { self.chance(0.5) ? .debit : .credit }

    mutating func asset() -> AssetCode { AssetCode(rawValue: self.value()) }

    mutating func header() -> TransactionHeader {
        TransactionHeader(
            key: IdempotencyKey(rawValue: self.value()),
            type: TransactionType(rawValue: self.value()),
            effectiveTime: Timestamp(nanosecondsSinceEpoch: self.value()),
            actor: self.value(),
            reason: self.value()
        )
    }

    mutating func reference(maximum: Int = 100) -> ExternalReference {
        ExternalReference(bytes: self.chance(0.4) ? [] : self.bytes(self.int(0...maximum)))
    }

    mutating func references() -> ExternalReferences {
        ExternalReferences(paymentID: self.reference(), providerReference: self.reference())
    }

    mutating func leg() -> Leg {
        Leg(account: AccountID(rawValue: self.value()), side: self.side(), amount: self.value())
    }

    mutating func rate() -> FXRate {
        FXRate(base: self.asset(), quote: self.asset(), numerator: self.value(), denominator: self.value())
    }

    // MARK: - Operations and batches

    mutating func operation() -> Operation {
        switch self.int(1...10) {
        case 1: return .createAsset(CreateAsset(code: self.asset(), scale: self.value()))
        case 2:
            return .createAccount(
                CreateAccount(
                    id: AccountID(rawValue: self.value()),
                    asset: self.asset(),
                    kind: AccountKind(rawValue: self.value()),
                    normalSide: self.chance(0.3) ? nil : self.side(),
                    merchant: self.value(),
                    partner: self.value(),
                    flags: AccountFlags(rawValue: self.value())
                )
            )
        case 3:
            return .setAccountStatus(
                SetAccountStatus(
                    account: AccountID(rawValue: self.value()),
                    status: AccountStatus.allCases[self.int(0...2)],
                    actor: self.value(),
                    reason: self.value()
                )
            )
        case 4:
            return .post(
                self.header(),
                legs: (0..<self.int(0...6)).map { _ in self.leg() },
                fxRates: (0..<self.int(0...2)).map { _ in self.rate() },
                references: self.references()
            )
        case 5:
            return .hold(
                self.header(),
                HoldTerms(
                    debit: AccountID(rawValue: self.value()),
                    credit: AccountID(rawValue: self.value()),
                    amount: self.value(),
                    timeoutSeconds: self.value()
                ),
                references: self.references()
            )
        case 6:
            return .capture(
                self.header(),
                CaptureTerms(
                    hold: TransactionID(rawValue: self.value()),
                    amount: self.value(),
                    isFinal: self.chance(0.5)
                ),
                references: self.references()
            )
        case 7:
            return .increaseHold(
                self.header(),
                IncreaseTerms(hold: TransactionID(rawValue: self.value()), amount: self.value()),
                references: self.references()
            )
        case 8:
            return .voidHold(self.header(), hold: TransactionID(rawValue: self.value()), references: self.references())
        case 9: return .expireHold(hold: TransactionID(rawValue: self.value()))
        default:
            return .reverse(
                self.header(),
                transaction: TransactionID(rawValue: self.value()),
                references: self.references()
            )
        }
    }

    mutating func batch(operations: Int? = nil) -> OperationBatch {
        var batch = OperationBatch()
        let count = operations ?? (self.chance(0.9) ? self.int(1...8) : self.int(1...200))
        for _ in 0..<count {
            batch.append(self.operation(), linked: self.chance(0.3))
        }
        return batch
    }

    // MARK: - Requests

    mutating func consistency() -> ReadConsistency { self.chance(0.5) ? .durable : .applied }

    /// A list length: mostly short, sometimes long.
    mutating func listCount() -> Int { self.chance(0.9) ? self.int(1...8) : self.int(1...300) }

    mutating func request(_ opcode: Opcode) -> Request {
        switch opcode {
        case .handshake:
            let low = UInt8(self.int(1...255))
            let high = UInt8(self.int(Int(low)...255))
            return .handshake(HandshakeRequest(versions: low...high, clientName: self.text(maximum: 64)))
        case .ping: return .ping
        case .statistics: return .statistics
        case .submitBatch:
            return .submitBatch(
                SubmitBatchRequest(self.batch(), acknowledgement: self.chance(0.5) ? .durable : .applied)
            )
        case .waitUntilDurable:
            return .waitUntilDurable(WaitUntilDurableRequest(sequence: self.value(), timeoutMilliseconds: self.value()))
        case .balances:
            return .balances(
                BalancesRequest(
                    (0..<self.listCount()).map { _ in AccountID(rawValue: self.value()) },
                    consistency: self.consistency()
                )
            )
        case .accounts:
            return .accounts(
                AccountsRequest(
                    (0..<self.listCount()).map { _ in AccountID(rawValue: self.value()) },
                    consistency: self.consistency()
                )
            )
        case .aggregateBalance:
            let dimension: AggregateDimension
            switch self.int(0...2) {
            case 0: dimension = .total
            case 1: dimension = .merchant(self.value())
            default: dimension = .partner(self.value())
            }
            return .aggregateBalance(
                AggregateBalanceRequest(
                    kind: AccountKind(rawValue: self.value()),
                    asset: self.asset(),
                    dimension,
                    consistency: self.consistency()
                )
            )
        case .aggregateBalances:
            return .aggregateBalances(
                AggregateBalancesRequest(
                    kind: AccountKind(rawValue: self.value()),
                    asset: self.asset(),
                    by: self.chance(0.5) ? .merchant : .partner,
                    start: self.value(),
                    limit: self.int(1...WireProtocol.operationsPerRequestCeiling),
                    consistency: self.consistency()
                )
            )
        case .assets:
            return .assets(
                AssetsRequest((0..<self.listCount()).map { _ in self.asset() }, consistency: self.consistency())
            )
        case .holds:
            return .holds(
                HoldsRequest(
                    (0..<self.listCount()).map { _ in TransactionID(rawValue: self.value()) },
                    consistency: self.consistency()
                )
            )
        case .transaction:
            return .transaction(
                TransactionRequest(TransactionID(rawValue: self.value()), consistency: self.consistency())
            )
        case .idempotencyRecord:
            return .idempotencyRecord(
                IdempotencyRequest(IdempotencyKey(rawValue: self.value()), consistency: self.consistency())
            )
        }
    }

    mutating func requestFrame() -> RequestFrame {
        let opcode = Opcode.allCases[self.int(0...Opcode.allCases.count - 1)]
        return RequestFrame(requestID: max(1, self.value()), self.request(opcode))
    }

    // MARK: - Replies

    mutating func limits() -> ConnectionLimits {
        let frame = self.int(WireProtocol.frameBytesFloor...WireProtocol.frameBytesCeiling)
        return ConnectionLimits(
            frameBytesMax: frame,
            operationsPerRequestMax: self.int(1...WireProtocol.operationsPerRequestCeiling),
            inFlightBytesMax: self.int(frame...Int(UInt32.max)),
            connectionsMax: self.int(1...Int(UInt32.max)),
            idleTimeoutMilliseconds: self.value(),
            waitTimeoutMaxMilliseconds: self.value()
        )
    }

    mutating func result() -> OperationResult {
        OperationResult(
            code: ResultCode(rawValue: self.value()),
            transactionID: TransactionID(rawValue: self.value()),
            detail: self.value(),
            isReplay: self.chance(0.3)
        )
    }

    mutating func transactionRecord() -> TransactionRecord {
        let kind = OperationKind.allCases.filter(\.createsTransaction)[self.int(0...6)]
        return TransactionRecord(
            id: TransactionID(rawValue: self.value()),
            kind: kind,
            type: TransactionType(rawValue: self.value()),
            key: IdempotencyKey(rawValue: self.value()),
            legs: (0..<self.int(0...5)).map { _ in self.leg() },
            fxRates: (0..<self.int(0...2)).map { _ in self.rate() },
            references: self.references(),
            effectiveTime: Timestamp(nanosecondsSinceEpoch: self.value()),
            recordedTime: Timestamp(nanosecondsSinceEpoch: self.value()),
            actor: self.value(),
            reason: self.value(),
            link: TransactionID(rawValue: self.value()),
            released: self.value(),
            deadline: Timestamp(nanosecondsSinceEpoch: self.value()),
            isFinal: kind == .capture && self.chance(0.5)
        )
    }

    mutating func statisticName() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789_.")
        return String((0..<self.int(1...64)).map { _ in alphabet[self.int(0...alphabet.count - 1)] })
    }

    mutating func reply(_ opcode: Opcode) -> Reply {
        switch opcode {
        case .handshake:
            let low = UInt8(self.int(1...255))
            let versions = low...UInt8(self.int(Int(low)...255))
            let version = self.chance(0.2) ? 0 : UInt8(self.int(Int(versions.lowerBound)...Int(versions.upperBound)))
            return .handshake(
                HandshakeReply(
                    version: version,
                    versions: versions,
                    isReadOnly: self.chance(0.5),
                    limits: self.limits(),
                    serverVersion: self.text(maximum: 64, allowEmpty: false)
                )
            )
        case .ping: return .ping
        case .statistics:
            var names = Set<String>()
            var statistics: [Statistic] = []
            for _ in 0..<self.int(0...20) {
                let name = self.statisticName()
                guard names.insert(name).inserted else { continue }
                statistics.append(Statistic(name, self.chance(0.5) ? .counter : .gauge, self.value()))
            }
            return .statistics(StatisticsReply(statistics))
        case .submitBatch:
            return .submitBatch(
                SubmitBatchReply(
                    sequence: self.value(),
                    recordedTime: Timestamp(nanosecondsSinceEpoch: self.value()),
                    results: (0..<self.listCount()).map { _ in self.result() }
                )
            )
        case .waitUntilDurable:
            return .waitUntilDurable(WaitUntilDurableReply(durableSequence: self.value()))
        case .balances:
            return .balances(BalancesReply((0..<self.listCount()).map { _ in self.chance(0.2) ? nil : self.balance() }))
        case .accounts:
            return .accounts(
                AccountsReply(
                    (0..<self.listCount()).map { _ in
                        self.chance(0.2)
                            ? nil
                            : AccountInfo(
                                id: AccountID(rawValue: self.value()),
                                asset: self.asset(),
                                kind: AccountKind(rawValue: self.value()),
                                normalSide: self.side(),
                                merchant: self.value(),
                                partner: self.value(),
                                flags: AccountFlags(rawValue: self.value()),
                                status: AccountStatus.allCases[self.int(0...2)],
                                balance: self.balance()
                            )
                    }
                )
            )
        case .aggregateBalance:
            return .aggregateBalance(AggregateBalanceReply(self.chance(0.2) ? nil : self.balance()))
        case .aggregateBalances:
            var value: UInt64 = self.chance(0.3) ? 0 : UInt64(self.int(0...1_000))
            var entries: [AggregateEntry] = []
            for _ in 0..<self.int(0...10) {
                entries.append(AggregateEntry(value: value, balance: self.balance()))
                value += UInt64(self.int(1...1_000_000))
            }
            return .aggregateBalances(AggregateBalancesReply(entries, hasMore: self.chance(0.5)))
        case .assets:
            return .assets(
                AssetsReply(
                    (0..<self.listCount()).map { _ in
                        self.chance(0.2)
                            ? nil : AssetInfo(code: self.asset(), scale: self.value(), totals: self.balance())
                    }
                )
            )
        case .holds:
            return .holds(
                HoldsReply(
                    (0..<self.listCount()).map { _ in
                        self.chance(0.2)
                            ? nil
                            : HoldInfo(
                                id: TransactionID(rawValue: self.value()),
                                debit: AccountID(rawValue: self.value()),
                                credit: AccountID(rawValue: self.value()),
                                type: TransactionType(rawValue: self.value()),
                                amount: self.value(),
                                captured: self.value(),
                                deadline: Timestamp(nanosecondsSinceEpoch: self.value())
                            )
                    }
                )
            )
        case .transaction:
            switch self.int(0...2) {
            case 0: return .transaction(TransactionReply(.found(self.transactionRecord())))
            case 1: return .transaction(TransactionReply(.notRetained))
            default: return .transaction(TransactionReply(.notFound))
            }
        case .idempotencyRecord:
            guard self.chance(0.8) else { return .idempotencyRecord(IdempotencyReply(nil)) }
            var result = self.result()
            result.isReplay = false
            return .idempotencyRecord(
                IdempotencyReply(
                    IdempotencyRecord(
                        key: IdempotencyKey(rawValue: self.value()),
                        result: result,
                        transaction: self.chance(0.5) ? self.transactionRecord() : nil
                    )
                )
            )
        }
    }

    mutating func errorReply() -> ErrorReply {
        var status = ReplyStatus(rawValue: self.value())
        if status == .ok {
            status = .malformed
        }
        return ErrorReply(
            status,
            reason: MalformedReason(rawValue: self.value()),
            offset: self.value(),
            message: self.text(maximum: 200)
        )
    }

    mutating func replyFrame() -> ReplyFrame {
        if self.chance(0.15) {
            return ReplyFrame(
                requestID: self.value(),
                opcode: self.value(),
                failure: self.errorReply(),
                isClosing: self.chance(0.3)
            )
        }
        let opcode = Opcode.allCases[self.int(0...Opcode.allCases.count - 1)]
        return ReplyFrame(requestID: max(1, self.value()), self.reply(opcode), isClosing: self.chance(0.1))
    }
}
