import TallyCore
import TallyWire

extension TallyClient {
    /// The balance of each account, in order; nil where no such account exists.
    ///
    /// `consistency` `.durable` (the default) shows only durable state; `.applied` also what is
    /// applied and not yet durable. More accounts than the server's operations-per-request limit
    /// throw ``TallyClientError/Code/requestTooLarge``; none returns an empty list without asking.
    public func balances(
        _ accounts: [AccountID],
        consistency: ReadConsistency = .durable
    ) async throws(TallyClientError) -> [Balance?] {
        guard !accounts.isEmpty else { return [] }
        try self.checkItemCount(accounts.count, .balances)
        let reply = try await self.perform(.balances(BalancesRequest(accounts, consistency: consistency)))
        guard case .balances(let balances) = reply else {
            throw TallyClientError.unexpected(reply, answering: .balances)
        }
        try Self.checkCount(balances.balances.count, asked: accounts.count, .balances)
        return balances.balances
    }

    /// The definition, status and balance of each account, in order; nil where no such account
    /// exists.
    public func accounts(
        _ accounts: [AccountID],
        consistency: ReadConsistency = .durable
    ) async throws(TallyClientError) -> [AccountInfo?] {
        guard !accounts.isEmpty else { return [] }
        try self.checkItemCount(accounts.count, .accounts)
        let reply = try await self.perform(.accounts(AccountsRequest(accounts, consistency: consistency)))
        guard case .accounts(let infos) = reply else {
            throw TallyClientError.unexpected(reply, answering: .accounts)
        }
        try Self.checkCount(infos.accounts.count, asked: accounts.count, .accounts)
        return infos.accounts
    }

    /// The scale and totals of each asset, in order; nil where no such asset exists.
    public func assets(
        _ codes: [AssetCode],
        consistency: ReadConsistency = .durable
    ) async throws(TallyClientError) -> [AssetInfo?] {
        guard !codes.isEmpty else { return [] }
        try self.checkItemCount(codes.count, .assets)
        let reply = try await self.perform(.assets(AssetsRequest(codes, consistency: consistency)))
        guard case .assets(let infos) = reply else {
            throw TallyClientError.unexpected(reply, answering: .assets)
        }
        try Self.checkCount(infos.assets.count, asked: codes.count, .assets)
        return infos.assets
    }

    /// Each open hold, in order; nil where no open hold has the id (never a hold, or captured in
    /// full, voided or expired).
    public func holds(
        _ holds: [TransactionID],
        consistency: ReadConsistency = .durable
    ) async throws(TallyClientError) -> [HoldInfo?] {
        guard !holds.isEmpty else { return [] }
        try self.checkItemCount(holds.count, .holds)
        let reply = try await self.perform(.holds(HoldsRequest(holds, consistency: consistency)))
        guard case .holds(let infos) = reply else {
            throw TallyClientError.unexpected(reply, answering: .holds)
        }
        try Self.checkCount(infos.holds.count, asked: holds.count, .holds)
        return infos.holds
    }

    /// The summed balance of the accounts of one kind in one asset, in total or for one merchant or
    /// partner; nil when no such account exists.
    public func aggregateBalance(
        kind: AccountKind,
        asset: AssetCode,
        dimension: AggregateDimension = .total,
        consistency: ReadConsistency = .durable
    ) async throws(TallyClientError) -> Balance? {
        let reply = try await self.perform(
            .aggregateBalance(AggregateBalanceRequest(kind: kind, asset: asset, dimension, consistency: consistency))
        )
        guard case .aggregateBalance(let aggregate) = reply else {
            throw TallyClientError.unexpected(reply, answering: .aggregateBalance)
        }
        return aggregate.balance
    }

    /// One page of the aggregate balances of one kind and asset by merchant or partner, in
    /// increasing order from `start`: at most `limit` entries (and at most the server's
    /// operations-per-request limit). When ``TallyWire/AggregateBalancesReply/hasMore`` is set, ask
    /// again with `start` one past the last entry's value. A limit below 1 throws
    /// ``TallyClientError/Code/invalidArgument``; one above the protocol's ceiling is lowered to it.
    public func aggregateBalances(
        kind: AccountKind,
        asset: AssetCode,
        grouping: AggregateGrouping,
        start: UInt64 = 0,
        limit: Int = WireProtocol.operationsPerRequestCeiling,
        consistency: ReadConsistency = .durable
    ) async throws(TallyClientError) -> AggregateBalancesReply {
        guard limit >= 1 else {
            throw TallyClientError(.invalidArgument, "a page limit of \(limit); it must be at least 1")
        }
        let reply = try await self.perform(
            .aggregateBalances(
                AggregateBalancesRequest(
                    kind: kind,
                    asset: asset,
                    by: grouping,
                    start: start,
                    limit: min(limit, WireProtocol.operationsPerRequestCeiling),
                    consistency: consistency
                )
            )
        )
        guard case .aggregateBalances(let page) = reply else {
            throw TallyClientError.unexpected(reply, answering: .aggregateBalances)
        }
        return page
    }

    /// The transaction with `id`: found, not retained any more (the journal has it), or not found.
    public func transaction(
        _ id: TransactionID,
        consistency: ReadConsistency = .durable
    ) async throws(TallyClientError) -> TransactionLookup {
        let reply = try await self.perform(.transaction(TransactionRequest(id, consistency: consistency)))
        guard case .transaction(let transaction) = reply else {
            throw TallyClientError.unexpected(reply, answering: .transaction)
        }
        return transaction.lookup
    }

    /// The result remembered under an idempotency key, with its transaction while retained; nil
    /// when the key is unknown or older than the idempotency window.
    public func idempotencyRecord(
        _ key: IdempotencyKey,
        consistency: ReadConsistency = .durable
    ) async throws(TallyClientError) -> IdempotencyRecord? {
        let reply = try await self.perform(.idempotencyRecord(IdempotencyRequest(key, consistency: consistency)))
        guard case .idempotencyRecord(let record) = reply else {
            throw TallyClientError.unexpected(reply, answering: .idempotencyRecord)
        }
        return record.record
    }

    /// The server's named counters and gauges.
    public func statistics() async throws(TallyClientError) -> [Statistic] {
        let reply = try await self.perform(.statistics)
        guard case .statistics(let statistics) = reply else {
            throw TallyClientError.unexpected(reply, answering: .statistics)
        }
        return statistics.statistics
    }

    /// A round trip that does nothing: a liveness and latency probe.
    public func ping() async throws(TallyClientError) {
        let reply = try await self.perform(.ping)
        guard case .ping = reply else {
            throw TallyClientError.unexpected(reply, answering: .ping)
        }
    }

    private static func checkCount(_ count: Int, asked: Int, _ opcode: Opcode) throws(TallyClientError) {
        guard count == asked else {
            throw TallyClientError(
                .protocolViolation,
                "the server answered a \(opcode.name) request of \(asked) items with \(count)"
            )
        }
    }
}
