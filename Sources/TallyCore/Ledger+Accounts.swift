extension Ledger {
    mutating func applyCreateAsset(_ body: CreateAsset) -> OperationResult {
        guard body.code.isValid else {
            return .rejected(.assetCodeInvalid)
        }
        guard body.scale <= Limits.assetScaleMax else {
            return .rejected(.assetScaleInvalid)
        }
        if let existing = self.assets.index(of: body.code) {
            guard self.assets.scales[Int(existing)] == body.scale else {
                return .rejected(.assetExistsWithDifferentScale)
            }
            return OperationResult(code: .ok, isReplay: true)
        }
        guard self.assets.count < Limits.assetsMax else {
            return .rejected(.assetsLimitReached)
        }
        _ = self.assets.append(code: body.code, scale: body.scale)
        if self.isRecordingUndo {
            self.undo.append(.assetCreated)
        }
        return .ok()
    }

    mutating func applyCreateAccount(_ body: CreateAccount) -> OperationResult {
        guard body.id.rawValue != 0 else {
            return .rejected(.accountIDInvalid)
        }
        guard body.kind.isValid else {
            return .rejected(.accountKindInvalid)
        }
        let normalSide: Side
        if let builtIn = body.kind.builtInNormalSide {
            if let given = body.normalSide, given != builtIn {
                return .rejected(.normalSideMismatch)
            }
            normalSide = builtIn
        } else {
            guard let given = body.normalSide else {
                return .rejected(.normalSideRequired)
            }
            normalSide = given
        }
        guard AccountFlags.all.isSuperset(of: body.flags),
            !body.flags.isSuperset(of: [.debitsMustNotExceedCredits, .creditsMustNotExceedDebits])
        else {
            return .rejected(.accountFlagsInvalid)
        }
        guard let asset = self.assets.index(of: body.asset) else {
            return .rejected(.assetUnknown)
        }
        if let existing = self.accounts.find(body.id) {
            let record = self.accounts.records[existing]
            guard
                record.asset == asset && record.kind == body.kind && record.normalSide == normalSide
                    && record.merchant == body.merchant && record.partner == body.partner && record.flags == body.flags
            else {
                return .rejected(.accountExistsWithDifferentFields)
            }
            return OperationResult(code: .ok, isReplay: true)
        }
        guard self.accounts.count < self.configuration.accountsMax else {
            return .rejected(.accountsLimitReached)
        }

        let total = self.aggregates.bucket(for: .init(kind: body.kind, asset: asset, dimension: 0, value: 0))
        let merchant = self.aggregates.bucket(
            for: .init(kind: body.kind, asset: asset, dimension: 1, value: body.merchant)
        )
        let partner = self.aggregates.bucket(
            for: .init(kind: body.kind, asset: asset, dimension: 2, value: body.partner)
        )
        _ = self.accounts.append(
            AccountRecord(
                id: body.id,
                merchant: body.merchant,
                partner: body.partner,
                asset: asset,
                kind: body.kind,
                flags: body.flags,
                normalSide: normalSide,
                status: .open,
                totalBucket: total.index,
                merchantBucket: merchant.index,
                partnerBucket: partner.index
            )
        )
        if self.isRecordingUndo {
            let created = [total.created, merchant.created, partner.created].count(where: { $0 })
            self.undo.append(.accountCreated(bucketsCreated: created))
        }
        return .ok()
    }

    mutating func applySetAccountStatus(_ body: SetAccountStatus) -> OperationResult {
        guard let account = self.accounts.find(body.account) else {
            return .rejected(.accountUnknown)
        }
        let current = self.accounts.records[account].status
        if current == body.status {
            return OperationResult(code: .ok, isReplay: true)
        }
        if current == .closed {
            return .rejected(.accountClosed)
        }
        if body.status == .closed && !self.accounts.balances[account].isSettledToZero {
            return .rejected(.accountNotEmpty)
        }
        self.accounts.setStatus(body.status, at: account)
        if self.isRecordingUndo {
            self.undo.append(.accountStatus(account: UInt32(account), previous: current))
        }
        return .ok()
    }
}
