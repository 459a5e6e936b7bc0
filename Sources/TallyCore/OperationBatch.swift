/// An ordered batch of operations in flat storage: fixed-size entries, with legs, FX rates and
/// reference bytes in shared buffers. Reused with ``removeAll(keepingCapacity:)``, it lets a
/// writer build and apply batches without a heap allocation per operation.
///
/// An operation appended with `linked: true` is chained to the next one: a chain (a run of linked
/// operations and the first unlinked one after them) applies all or nothing.
public struct OperationBatch: Sendable {
    /// A range of one of the shared buffers.
    @usableFromInline
    struct Slice: Hashable, Sendable {
        @usableFromInline var start: UInt32
        @usableFromInline var count: UInt32

        @inlinable
        init(start: Int, count: Int) {
            self.start = UInt32(truncatingIfNeeded: start)
            self.count = UInt32(truncatingIfNeeded: count)
        }

        @inlinable
        var range: Range<Int> { Int(self.start)..<Int(self.start) + Int(self.count) }

        static let empty = Slice(start: 0, count: 0)
    }

    /// The two external references, as slices of ``referenceBytes``.
    @usableFromInline
    struct ReferenceSlices: Hashable, Sendable {
        @usableFromInline var paymentID: Slice
        @usableFromInline var providerReference: Slice

        @inlinable
        init(paymentID: Slice, providerReference: Slice) {
            self.paymentID = paymentID
            self.providerReference = providerReference
        }
    }

    /// An operation as stored: ``Operation`` with its variable parts replaced by slices.
    @usableFromInline
    enum Stored: Sendable {
        case createAsset(CreateAsset)
        case createAccount(CreateAccount)
        case setAccountStatus(SetAccountStatus)
        case post(TransactionHeader, legs: Slice, fxRates: Slice, references: ReferenceSlices)
        case hold(TransactionHeader, HoldTerms, references: ReferenceSlices)
        case capture(TransactionHeader, CaptureTerms, references: ReferenceSlices)
        case increaseHold(TransactionHeader, IncreaseTerms, references: ReferenceSlices)
        case voidHold(TransactionHeader, hold: TransactionID, references: ReferenceSlices)
        case expireHold(hold: TransactionID)
        case reverse(TransactionHeader, transaction: TransactionID, references: ReferenceSlices)
    }

    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var operation: Stored
        @usableFromInline var isLinked: Bool

        @inlinable
        init(operation: Stored, isLinked: Bool) {
            self.operation = operation
            self.isLinked = isLinked
        }
    }

    @usableFromInline var entries: [Entry] = []
    @usableFromInline var legs: [Leg] = []
    @usableFromInline var fxRates: [FXRate] = []
    @usableFromInline var referenceBytes: [UInt8] = []

    public init() {}

    /// A batch holding `operations`, none linked.
    public init(_ operations: some Sequence<Operation>) {
        for operation in operations {
            self.append(operation)
        }
    }

    /// The number of operations.
    @inlinable
    public var count: Int { self.entries.count }

    /// The latest business (effective) time among the batch's transactions; zero when none gives
    /// one. A load-test engine may let its clock follow it (see the engine's configuration).
    public var latestEffectiveTime: Timestamp {
        var latest = Timestamp.zero
        for entry in self.entries {
            let header: TransactionHeader
            switch entry.operation {
            case .post(let value, _, _, _), .hold(let value, _, _), .capture(let value, _, _),
                .increaseHold(let value, _, _), .voidHold(let value, _, _), .reverse(let value, _, _):
                header = value
            case .createAsset, .createAccount, .setAccountStatus, .expireHold:
                continue
            }
            if header.effectiveTime > latest { latest = header.effectiveTime }
        }
        return latest
    }

    @inlinable
    public var isEmpty: Bool { self.entries.isEmpty }

    /// Empties the batch; with `keepingCapacity`, later appends reuse the buffers.
    public mutating func removeAll(keepingCapacity: Bool = true) {
        self.entries.removeAll(keepingCapacity: keepingCapacity)
        self.legs.removeAll(keepingCapacity: keepingCapacity)
        self.fxRates.removeAll(keepingCapacity: keepingCapacity)
        self.referenceBytes.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Reserves room for `operations` operations with `legs` legs in all.
    public mutating func reserveCapacity(operations: Int, legs: Int) {
        self.entries.reserveCapacity(operations)
        self.legs.reserveCapacity(legs)
    }

    /// Whether the operation at `index` is chained to the next one.
    @inlinable
    public func isLinked(at index: Int) -> Bool {
        self.entries[index].isLinked
    }

    /// Marks or unmarks the operation at `index` as chained to the next one.
    public mutating func setLinked(_ isLinked: Bool, at index: Int) {
        self.entries[index].isLinked = isLinked
    }

    /// Appends `operation`, copying its variable parts into the shared buffers.
    public mutating func append(_ operation: Operation, linked: Bool = false) {
        switch operation {
        case .createAsset(let body):
            self.entries.append(Entry(operation: .createAsset(body), isLinked: linked))
        case .createAccount(let body):
            self.entries.append(Entry(operation: .createAccount(body), isLinked: linked))
        case .setAccountStatus(let body):
            self.entries.append(Entry(operation: .setAccountStatus(body), isLinked: linked))
        case .post(let header, let legs, let fxRates, let references):
            self.appendPost(
                header,
                legs: legs,
                fxRates: fxRates,
                paymentID: references.paymentID.bytes,
                providerReference: references.providerReference.bytes,
                linked: linked
            )
        case .hold(let header, let terms, let references):
            self.appendHold(
                header,
                terms,
                paymentID: references.paymentID.bytes,
                providerReference: references.providerReference.bytes,
                linked: linked
            )
        case .capture(let header, let terms, let references):
            self.appendCapture(
                header,
                terms,
                paymentID: references.paymentID.bytes,
                providerReference: references.providerReference.bytes,
                linked: linked
            )
        case .increaseHold(let header, let terms, let references):
            self.appendIncrease(
                header,
                terms,
                paymentID: references.paymentID.bytes,
                providerReference: references.providerReference.bytes,
                linked: linked
            )
        case .voidHold(let header, let hold, let references):
            self.appendVoid(
                header,
                hold: hold,
                paymentID: references.paymentID.bytes,
                providerReference: references.providerReference.bytes,
                linked: linked
            )
        case .expireHold(let hold):
            self.appendExpiry(hold: hold, linked: linked)
        case .reverse(let header, let transaction, let references):
            self.appendReverse(
                header,
                transaction: transaction,
                paymentID: references.paymentID.bytes,
                providerReference: references.providerReference.bytes,
                linked: linked
            )
        }
    }

    /// Appends a posted transaction without building an ``Operation`` first.
    @inlinable
    public mutating func appendPost(
        _ header: TransactionHeader,
        legs: some Collection<Leg>,
        fxRates: some Collection<FXRate> = EmptyCollection(),
        paymentID: some Collection<UInt8> = EmptyCollection(),
        providerReference: some Collection<UInt8> = EmptyCollection(),
        linked: Bool = false
    ) {
        let legSlice = Slice(start: self.legs.count, count: legs.count)
        self.legs.append(contentsOf: legs)
        let rateSlice = Slice(start: self.fxRates.count, count: fxRates.count)
        if !fxRates.isEmpty {
            self.fxRates.append(contentsOf: fxRates)
        }
        let references = self.store(paymentID, providerReference)
        self.entries.append(
            Entry(
                operation: .post(header, legs: legSlice, fxRates: rateSlice, references: references),
                isLinked: linked
            )
        )
    }

    /// Appends a hold without building an ``Operation`` first.
    @inlinable
    public mutating func appendHold(
        _ header: TransactionHeader,
        _ terms: HoldTerms,
        paymentID: some Collection<UInt8> = EmptyCollection(),
        providerReference: some Collection<UInt8> = EmptyCollection(),
        linked: Bool = false
    ) {
        let references = self.store(paymentID, providerReference)
        self.entries.append(Entry(operation: .hold(header, terms, references: references), isLinked: linked))
    }

    /// Appends a capture without building an ``Operation`` first.
    @inlinable
    public mutating func appendCapture(
        _ header: TransactionHeader,
        _ terms: CaptureTerms,
        paymentID: some Collection<UInt8> = EmptyCollection(),
        providerReference: some Collection<UInt8> = EmptyCollection(),
        linked: Bool = false
    ) {
        let references = self.store(paymentID, providerReference)
        self.entries.append(Entry(operation: .capture(header, terms, references: references), isLinked: linked))
    }

    /// Appends an increase without building an ``Operation`` first.
    @inlinable
    public mutating func appendIncrease(
        _ header: TransactionHeader,
        _ terms: IncreaseTerms,
        paymentID: some Collection<UInt8> = EmptyCollection(),
        providerReference: some Collection<UInt8> = EmptyCollection(),
        linked: Bool = false
    ) {
        let references = self.store(paymentID, providerReference)
        self.entries.append(Entry(operation: .increaseHold(header, terms, references: references), isLinked: linked))
    }

    /// Appends a void without building an ``Operation`` first.
    @inlinable
    public mutating func appendVoid(
        _ header: TransactionHeader,
        hold: TransactionID,
        paymentID: some Collection<UInt8> = EmptyCollection(),
        providerReference: some Collection<UInt8> = EmptyCollection(),
        linked: Bool = false
    ) {
        let references = self.store(paymentID, providerReference)
        self.entries.append(Entry(operation: .voidHold(header, hold: hold, references: references), isLinked: linked))
    }

    /// Appends a reversal without building an ``Operation`` first.
    @inlinable
    public mutating func appendReverse(
        _ header: TransactionHeader,
        transaction: TransactionID,
        paymentID: some Collection<UInt8> = EmptyCollection(),
        providerReference: some Collection<UInt8> = EmptyCollection(),
        linked: Bool = false
    ) {
        let references = self.store(paymentID, providerReference)
        self.entries.append(
            Entry(operation: .reverse(header, transaction: transaction, references: references), isLinked: linked)
        )
    }

    /// Appends an engine-issued expiry.
    @inlinable
    public mutating func appendExpiry(hold: TransactionID, linked: Bool = false) {
        self.entries.append(Entry(operation: .expireHold(hold: hold), isLinked: linked))
    }

    @inlinable
    mutating func store(
        _ paymentID: some Collection<UInt8>,
        _ providerReference: some Collection<UInt8>
    ) -> ReferenceSlices {
        let payment = Slice(start: self.referenceBytes.count, count: paymentID.count)
        if !paymentID.isEmpty {
            self.referenceBytes.append(contentsOf: paymentID)
        }
        let provider = Slice(start: self.referenceBytes.count, count: providerReference.count)
        if !providerReference.isEmpty {
            self.referenceBytes.append(contentsOf: providerReference)
        }
        return ReferenceSlices(paymentID: payment, providerReference: provider)
    }

    /// The operation at `index` as a self-contained value.
    public func operation(at index: Int) -> Operation {
        switch self.entries[index].operation {
        case .createAsset(let body):
            return .createAsset(body)
        case .createAccount(let body):
            return .createAccount(body)
        case .setAccountStatus(let body):
            return .setAccountStatus(body)
        case .post(let header, let legs, let fxRates, let references):
            return .post(
                header,
                legs: Array(self.legs[legs.range]),
                fxRates: Array(self.fxRates[fxRates.range]),
                references: self.references(references)
            )
        case .hold(let header, let terms, let references):
            return .hold(header, terms, references: self.references(references))
        case .capture(let header, let terms, let references):
            return .capture(header, terms, references: self.references(references))
        case .increaseHold(let header, let terms, let references):
            return .increaseHold(header, terms, references: self.references(references))
        case .voidHold(let header, let hold, let references):
            return .voidHold(header, hold: hold, references: self.references(references))
        case .expireHold(let hold):
            return .expireHold(hold: hold)
        case .reverse(let header, let transaction, let references):
            return .reverse(header, transaction: transaction, references: self.references(references))
        }
    }

    /// Every operation, in order, as self-contained values.
    public var operations: [Operation] {
        (0..<self.count).map { self.operation(at: $0) }
    }

    private func references(_ slices: ReferenceSlices) -> ExternalReferences {
        ExternalReferences(
            paymentID: ExternalReference(bytes: Array(self.referenceBytes[slices.paymentID.range])),
            providerReference: ExternalReference(bytes: Array(self.referenceBytes[slices.providerReference.range]))
        )
    }
}
