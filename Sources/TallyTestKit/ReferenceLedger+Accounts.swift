import TallyCore

extension ReferenceLedger {
    /// Runs one operation after its key has been dealt with (docs/LEDGER.md, section by section).
    mutating func execute(_ operation: Operation) -> OperationResult {
        switch operation {
        case .createAsset(let body):
            return self.createAsset(body)
        case .createAccount(let body):
            return self.createAccount(body)
        case .setAccountStatus(let body):
            return self.setAccountStatus(body)
        case .post(let header, let legs, let fxRates, let references):
            return self.post(header, legs: legs, fxRates: fxRates, references: references)
        case .hold(let header, let terms, let references):
            return self.hold(header, terms, references: references)
        case .capture(let header, let terms, let references):
            return self.capture(header, terms, references: references)
        case .increaseHold(let header, let terms, let references):
            return self.increaseHold(header, terms, references: references)
        case .voidHold(let header, let hold, let references):
            return self.voidHold(header, hold: hold, references: references)
        case .expireHold(let hold):
            return self.expireHold(hold)
        case .reverse(let header, let transaction, let references):
            return self.reverse(header, transaction: transaction, references: references)
        }
    }

    // MARK: - Assets

    mutating func createAsset(_ body: CreateAsset) -> OperationResult {
        guard body.code.isValid else { return .rejected(.assetCodeInvalid) }
        guard body.scale <= 38 else { return .rejected(.assetScaleInvalid) }
        if let position = self.assetPositions[body.code] {
            guard self.assets[position].scale == body.scale else {
                return .rejected(.assetExistsWithDifferentScale)
            }
            return OperationResult(code: .ok, isReplay: true)
        }
        guard self.assets.count < 4_096 else { return .rejected(.assetsLimitReached) }
        self.assetPositions[body.code] = self.assets.count
        self.assets.append(Asset(code: body.code, scale: body.scale))
        return .ok()
    }

    // MARK: - Accounts

    mutating func createAccount(_ body: CreateAccount) -> OperationResult {
        guard body.id.rawValue != 0 else { return .rejected(.accountIDInvalid) }
        let code = body.kind.rawValue
        guard (1...10).contains(code) || code >= 1_000 else { return .rejected(.accountKindInvalid) }
        let normalSide: Side
        if (1...10).contains(code) {
            // The table in docs/LEDGER.md, *Accounts*.
            let own: Side = [2, 3, 9, 10].contains(code) ? .debit : .credit
            if let given = body.normalSide, given != own {
                return .rejected(.normalSideMismatch)
            }
            normalSide = own
        } else {
            guard let given = body.normalSide else { return .rejected(.normalSideRequired) }
            normalSide = given
        }
        guard body.flags.rawValue & ~UInt16(3) == 0, body.flags.rawValue != 3 else {
            return .rejected(.accountFlagsInvalid)
        }
        guard self.assetPositions[body.asset] != nil else { return .rejected(.assetUnknown) }
        if let existing = self.account(body.id) {
            let same =
                existing.asset == body.asset && existing.kind == body.kind && existing.normalSide == normalSide
                && existing.merchant == body.merchant && existing.partner == body.partner
                && existing.flags == body.flags
            return same ? OperationResult(code: .ok, isReplay: true) : .rejected(.accountExistsWithDifferentFields)
        }
        guard self.accounts.count < self.accountsMax else { return .rejected(.accountsLimitReached) }
        self.accountPositions[body.id] = self.accounts.count
        self.accounts.append(
            Account(
                id: body.id,
                asset: body.asset,
                kind: body.kind,
                normalSide: normalSide,
                merchant: body.merchant,
                partner: body.partner,
                flags: body.flags,
                status: .open,
                balance: .zero
            )
        )
        return .ok()
    }

    mutating func setAccountStatus(_ body: SetAccountStatus) -> OperationResult {
        guard let position = self.accountPositions[body.account] else { return .rejected(.accountUnknown) }
        let current = self.accounts[position]
        if current.status == body.status {
            return OperationResult(code: .ok, isReplay: true)
        }
        if current.status == .closed {
            return .rejected(.accountClosed)
        }
        if body.status == .closed {
            let balance = current.balance
            let settled =
                balance.debitsPosted == balance.creditsPosted && balance.debitsPending == 0
                && balance.creditsPending == 0
            guard settled else { return .rejected(.accountNotEmpty) }
        }
        self.accounts[position].status = body.status
        return .ok()
    }

    // MARK: - Checks and movements shared by the money-moving operations

    /// The header checks every keyed operation runs first, or nil when they pass.
    func headerRejection(_ header: TransactionHeader, _ references: ExternalReferences) -> OperationResult? {
        let type = header.type.rawValue
        guard (1...11).contains(type) || type >= 1_000 else { return .rejected(.transactionTypeInvalid) }
        if references.paymentID.bytes.count > 64 {
            return .rejected(.externalReferenceTooLong, detail: 0)
        }
        if references.providerReference.bytes.count > 64 {
            return .rejected(.externalReferenceTooLong, detail: 1)
        }
        if type == 10 && (header.actor == 0 || header.reason == 0) {
            return .rejected(.actorAndReasonRequired)
        }
        return nil
    }

    /// `account_frozen` / `account_closed` with `detail` when the account is not open.
    func statusRejection(_ account: Account, detail: Int) -> OperationResult? {
        switch account.status {
        case .open: return nil
        case .frozen: return .rejected(.accountFrozen, detail: detail)
        case .closed: return .rejected(.accountClosed, detail: detail)
        }
    }

    /// The balance constraint for adding `amount` to `side` of `account` (posted or pending: both
    /// count), or nil when it holds. Only the constrained side is checked.
    func constraintRejection(_ account: Account, side: Side, amount: UInt128, detail: Int) -> OperationResult? {
        let balance = account.balance
        switch side {
        case .debit:
            guard account.flags.contains(.debitsMustNotExceedCredits) else { return nil }
            let (partial, overflow1) = balance.debitsPosted.addingReportingOverflow(balance.debitsPending)
            let (total, overflow2) = partial.addingReportingOverflow(amount)
            if overflow1 || overflow2 || total > balance.creditsPosted {
                return .rejected(.exceedsCredits, detail: detail)
            }
        case .credit:
            guard account.flags.contains(.creditsMustNotExceedDebits) else { return nil }
            let (partial, overflow1) = balance.creditsPosted.addingReportingOverflow(balance.creditsPending)
            let (total, overflow2) = partial.addingReportingOverflow(amount)
            if overflow1 || overflow2 || total > balance.debitsPosted {
                return .rejected(.exceedsDebits, detail: detail)
            }
        }
        return nil
    }

    /// True when adding `debits` to the asset's volume (posted + pending debits) stays within
    /// 2^128 - 1.
    func volumeFits(_ asset: AssetCode, adding debits: UInt128) -> Bool {
        guard let position = self.assetPositions[asset] else { return false }
        let totals = self.assets[position].totals
        let (volume, overflow1) = totals.debitsPosted.addingReportingOverflow(totals.debitsPending)
        let (_, overflow2) = volume.addingReportingOverflow(debits)
        return !overflow1 && !overflow2
    }

    /// Changes one side of an account's balance and of its asset's totals together (aggregates are
    /// computed from the accounts when read). Amounts going up and down are given separately so that
    /// every change is checked on its own.
    mutating func move(
        _ accountID: AccountID,
        _ side: Side,
        postedUp: UInt128 = 0,
        pendingUp: UInt128 = 0,
        pendingDown: UInt128 = 0
    ) {
        guard let position = self.accountPositions[accountID],
            let assetPosition = self.assetPositions[self.accounts[position].asset]
        else {
            preconditionFailure("moving money on an account the checks did not find")
        }
        func change(_ balance: inout Balance) {
            switch side {
            case .debit:
                balance.debitsPosted = ReferenceLedger.sum(balance.debitsPosted, postedUp)
                balance.debitsPending = ReferenceLedger.difference(
                    ReferenceLedger.sum(balance.debitsPending, pendingUp),
                    pendingDown
                )
            case .credit:
                balance.creditsPosted = ReferenceLedger.sum(balance.creditsPosted, postedUp)
                balance.creditsPending = ReferenceLedger.difference(
                    ReferenceLedger.sum(balance.creditsPending, pendingUp),
                    pendingDown
                )
            }
        }
        change(&self.accounts[position].balance)
        change(&self.assets[assetPosition].totals)
    }
}
