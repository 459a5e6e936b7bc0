import Testing

@testable import TallyCore

/// A fixture ledger with a clock and a key counter, for tests that script many single operations:
/// each operation gets a fresh key and runs in its own batch at the current time.
struct Harness {
    var ledger: Ledger
    /// Seconds after ``Fixture/start``.
    var seconds: UInt64 = 1
    private var nextKey: UInt128 = 1_000

    init(_ configuration: LedgerConfiguration = LedgerConfiguration()) {
        self.ledger = Fixture.ledger(configuration)
    }

    var now: Timestamp { Fixture.time(self.seconds) }

    mutating func freshKey() -> IdempotencyKey {
        self.nextKey += 1
        return IdempotencyKey(self.nextKey)
    }

    /// Applies the operation `make` builds with a fresh key.
    @discardableResult
    mutating func apply(_ make: (IdempotencyKey) -> Operation) -> OperationResult {
        let key = self.freshKey()
        return self.ledger.apply(make(key), at: self.now)
    }

    /// Applies an operation without a key (expiries, definitions, status changes).
    @discardableResult
    mutating func apply(_ operation: Operation) -> OperationResult {
        self.ledger.apply(operation, at: self.now)
    }

    func record(_ id: TransactionID, sourceLocation: SourceLocation = #_sourceLocation) -> TransactionRecord? {
        guard case .found(let record) = self.ledger.transaction(id) else {
            Issue.record("transaction \(id) is not retained", sourceLocation: sourceLocation)
            return nil
        }
        return record
    }

    func balance(_ id: AccountID) -> Balance {
        self.ledger.balance(of: id) ?? Balance(debitsPosted: .max, creditsPosted: .max)
    }

    /// What the retained records say about hold `id`: everything held (the hold and its
    /// increases), captured and released.
    func holdAccount(_ id: TransactionID) -> (held: UInt128, captured: UInt128, released: UInt128) {
        var held: UInt128 = 0
        var captured: UInt128 = 0
        var released: UInt128 = 0
        for raw in 1...self.ledger.lastTransaction.rawValue {
            guard case .found(let record) = self.ledger.transaction(TransactionID(raw)) else { continue }
            switch record.kind {
            case .hold where record.id == id:
                held += record.legs[0].amount
            case .increaseHold where record.link == id:
                held += record.legs[0].amount
            case .capture where record.link == id:
                captured += record.legs[0].amount
                released += record.released
            case .voidHold where record.link == id, .expireHold where record.link == id:
                released += record.released
            default:
                break
            }
        }
        return (held, captured, released)
    }
}
