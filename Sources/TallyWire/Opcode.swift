/// What a request asks, with stable numbers. A reply carries its request's opcode.
///
/// 0 is never an opcode. Numbers are grouped: 0x01-0x0F connection, 0x10-0x1F writes and
/// durability, 0x20-0x2F reads. A later release may add opcodes within version 1; a server that
/// does not know one answers ``ReplyStatus/unknownOpcode`` and keeps the connection.
public enum Opcode: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Versions and limits (``HandshakeRequest``, ``HandshakeReply``).
    case handshake = 0x01
    /// An empty request answered with an empty reply.
    case ping = 0x02
    /// Named server counters and gauges (``StatisticsReply``).
    case statistics = 0x03
    /// A batch of operations (``SubmitBatchRequest``, ``SubmitBatchReply``).
    case submitBatch = 0x10
    /// Waits until a journal sequence is durable (``WaitUntilDurableRequest``).
    case waitUntilDurable = 0x11
    /// Balances of accounts (``BalancesRequest``, ``BalancesReply``).
    case balances = 0x20
    /// Definitions, statuses and balances of accounts (``AccountsRequest``, ``AccountsReply``).
    case accounts = 0x21
    /// One aggregate balance (``AggregateBalanceRequest``, ``AggregateBalanceReply``).
    case aggregateBalance = 0x22
    /// A page of aggregate balances by merchant or partner (``AggregateBalancesRequest``).
    case aggregateBalances = 0x23
    /// Assets with their scale and totals (``AssetsRequest``, ``AssetsReply``).
    case assets = 0x24
    /// Open holds (``HoldsRequest``, ``HoldsReply``).
    case holds = 0x25
    /// A transaction by id (``TransactionRequest``, ``TransactionReply``).
    case transaction = 0x26
    /// The remembered result of an idempotency key (``IdempotencyRequest``, ``IdempotencyReply``).
    case idempotencyRecord = 0x27

    /// The name used in docs/PROTOCOL.md and in messages.
    public var name: String {
        switch self {
        case .handshake: return "handshake"
        case .ping: return "ping"
        case .statistics: return "statistics"
        case .submitBatch: return "submit_batch"
        case .waitUntilDurable: return "wait_until_durable"
        case .balances: return "balances"
        case .accounts: return "accounts"
        case .aggregateBalance: return "aggregate_balance"
        case .aggregateBalances: return "aggregate_balances"
        case .assets: return "assets"
        case .holds: return "holds"
        case .transaction: return "transaction"
        case .idempotencyRecord: return "idempotency_record"
        }
    }

    /// Whether request flag bit 0 ("applied") means something for this opcode: the acknowledgement
    /// of a submit, the consistency of a read. On the others it must be clear.
    public var acceptsAppliedFlag: Bool {
        switch self {
        case .handshake, .ping, .statistics, .waitUntilDurable: return false
        case .submitBatch, .balances, .accounts, .aggregateBalance, .aggregateBalances, .assets, .holds,
            .transaction, .idempotencyRecord:
            return true
        }
    }

    /// Whether the request changes the ledger (refused on a read-only socket).
    public var isWrite: Bool { self == .submitBatch }

    public var description: String { self.name }
}
