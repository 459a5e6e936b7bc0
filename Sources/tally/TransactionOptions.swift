import ArgumentParser
import TallyCore
import TallyWire

/// The options of a money-moving operation given by flags: its header, references and when to be
/// acknowledged.
struct TransactionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The idempotency key: 32 hexadecimal digits or a UUID. Default: a new random key (printed).",
            valueName: "key"
        ),
        transform: FlagValue.key
    )
    var key: IdempotencyKey?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The transaction type: capture, settlement, payout, ..., custom_<1000-65535>.",
            valueName: "type"
        ),
        transform: FlagValue.type
    )
    var type: TransactionType?

    @Option(name: .long, help: "Business time, in nanoseconds since the Unix epoch. Default: not given (0).")
    var effectiveTime: UInt64?

    @Option(name: .long, help: "Who made a manual adjustment (an operator or service id). Default: 0.")
    var actor: UInt64?

    @Option(name: .long, help: "Why (a client-defined reason code). Default: 0.")
    var reason: UInt32?

    @Option(
        name: .long,
        help: "The commerce platform's payment id (UTF-8, up to 64 bytes).",
        transform: FlagValue.reference
    )
    var paymentId: ExternalReference?

    @Option(
        name: .long,
        help: "The payment service provider's reference (UTF-8, up to 64 bytes).",
        transform: FlagValue.reference
    )
    var providerReference: ExternalReference?

    @Flag(name: .long, help: "Acknowledge once applied, before it is durable (the reply's sequence confirms it later).")
    var applied = false

    /// Whether any header or reference option was given (they do not mix with `--file`).
    var anyGiven: Bool {
        self.key != nil || self.type != nil || self.effectiveTime != nil || self.actor != nil || self.reason != nil
            || self.paymentId != nil || self.providerReference != nil
    }

    var acknowledgement: Acknowledgement { self.applied ? .applied : .durable }

    /// The header, with a new random key when none was given; `type` when no `--type` was given
    /// (nil: the command needs one).
    func header(defaultType: TransactionType?) throws -> TransactionHeader {
        guard let type = self.type ?? defaultType else {
            throw ValidationError("Missing --type: say what the transaction is (capture, settlement, payout, ...).")
        }
        return TransactionHeader(
            key: self.key ?? LedgerText.randomKey(),
            type: type,
            effectiveTime: Timestamp(nanosecondsSinceEpoch: self.effectiveTime ?? 0),
            actor: self.actor ?? 0,
            reason: self.reason ?? 0
        )
    }

    var references: ExternalReferences {
        ExternalReferences(paymentID: self.paymentId ?? .none, providerReference: self.providerReference ?? .none)
    }
}
