import Foundation
import TallyCore
import TallyTestKit

/// A load scenario file (perf/scenarios/*.json): the chart of accounts and the mix of payment
/// flows `tally load` sends. Every member is optional; what is left out keeps the workload's
/// default. Unknown members are refused, so that a misspelt one is not silently ignored.
///
/// ```json
/// {"description": "card-heavy marketplace", "accounts": 20000, "psps": 4, "banks": 3,
///  "merchant_skew": 1.1, "mix": {"card_capture": 5200, "authorisation": 1800, "payout": 700},
///  "hold_timeout_seconds": [3600, 604800], "duplicate_retry_rate": 0.005}
/// ```
struct LoadScenario: Decodable {
    var description: String?
    /// About this many accounts: the number of merchants follows (two accounts per merchant and
    /// asset, plus the PSPs', banks' and house accounts).
    var accounts: Int?
    var psps: Int?
    var banks: Int?
    /// Zipf-like skew of merchant popularity (0: uniform; 1.1: a few hot merchants).
    var merchantSkew: Double?
    var mix: Mix?
    var holdTimeoutSeconds: [UInt32]?
    var duplicateRetryRate: Double?
    var lateCaptureRate: Double?

    /// Relative weights of the flows (any scale), and the share of PSP settlements that convert
    /// currency.
    struct Mix: Decodable {
        var cardCapture: UInt32?
        var cryptoCapture: UInt32?
        var authorisation: UInt32?
        var settlement: UInt32?
        var payout: UInt32?
        var refund: UInt32?
        var chargeback: UInt32?
        var reserveHold: UInt32?
        var suspenseDeposit: UInt32?
        var reversal: UInt32?
        var adjustment: UInt32?
        var fxSettlementRate: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case cardCapture, cryptoCapture, authorisation, settlement, payout, refund, chargeback
            case reserveHold, suspenseDeposit, reversal, adjustment, fxSettlementRate
        }

        init(from decoder: any Decoder) throws {
            try LoadScenario.refuseUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.stringValue))
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.cardCapture = try container.decodeIfPresent(UInt32.self, forKey: .cardCapture)
            self.cryptoCapture = try container.decodeIfPresent(UInt32.self, forKey: .cryptoCapture)
            self.authorisation = try container.decodeIfPresent(UInt32.self, forKey: .authorisation)
            self.settlement = try container.decodeIfPresent(UInt32.self, forKey: .settlement)
            self.payout = try container.decodeIfPresent(UInt32.self, forKey: .payout)
            self.refund = try container.decodeIfPresent(UInt32.self, forKey: .refund)
            self.chargeback = try container.decodeIfPresent(UInt32.self, forKey: .chargeback)
            self.reserveHold = try container.decodeIfPresent(UInt32.self, forKey: .reserveHold)
            self.suspenseDeposit = try container.decodeIfPresent(UInt32.self, forKey: .suspenseDeposit)
            self.reversal = try container.decodeIfPresent(UInt32.self, forKey: .reversal)
            self.adjustment = try container.decodeIfPresent(UInt32.self, forKey: .adjustment)
            self.fxSettlementRate = try container.decodeIfPresent(Double.self, forKey: .fxSettlementRate)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case description, accounts, psps, banks, merchantSkew, mix, holdTimeoutSeconds
        case duplicateRetryRate, lateCaptureRate
    }

    init(from decoder: any Decoder) throws {
        try Self.refuseUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.stringValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.description = try container.decodeIfPresent(String.self, forKey: .description)
        self.accounts = try container.decodeIfPresent(Int.self, forKey: .accounts)
        self.psps = try container.decodeIfPresent(Int.self, forKey: .psps)
        self.banks = try container.decodeIfPresent(Int.self, forKey: .banks)
        self.merchantSkew = try container.decodeIfPresent(Double.self, forKey: .merchantSkew)
        self.mix = try container.decodeIfPresent(Mix.self, forKey: .mix)
        self.holdTimeoutSeconds = try container.decodeIfPresent([UInt32].self, forKey: .holdTimeoutSeconds)
        self.duplicateRetryRate = try container.decodeIfPresent(Double.self, forKey: .duplicateRetryRate)
        self.lateCaptureRate = try container.decodeIfPresent(Double.self, forKey: .lateCaptureRate)
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func refuseUnknownKeys(in decoder: any Decoder, known: [String]) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let snakeKnown = Set(known.map(Self.snakeCase))
        for key in container.allKeys where !snakeKnown.contains(key.stringValue) && !known.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: container,
                debugDescription:
                    "unknown member \"\(key.stringValue)\" (known: \(snakeKnown.sorted().joined(separator: ", ")))"
            )
        }
    }

    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                out += "_" + character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// Reads a scenario file (JSON, snake_case members).
    static func load(_ path: String) throws -> LoadScenario {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(LoadScenario.self, from: data)
    }

    /// The workload this scenario describes, with `seed`. Checks every value the workload would
    /// trap on, with a message naming the member.
    func workload(seed: UInt64) throws -> PaymentWorkload.Configuration {
        var configuration =
            self.accounts.map { PaymentWorkload.Configuration.scaled(toAccounts: $0, seed: seed) }
            ?? PaymentWorkload.Configuration(seed: seed)
        func check(_ condition: Bool, _ message: String) throws {
            guard condition else { throw ScenarioError(message: message) }
        }
        if let accounts = self.accounts {
            try check((20...100_000_000).contains(accounts), "accounts must be 20 to 100,000,000")
        }
        if let psps = self.psps {
            try check((1...999).contains(psps), "psps must be 1 to 999")
            configuration.psps = psps
        }
        if let banks = self.banks {
            try check((1...999).contains(banks), "banks must be 1 to 999")
            configuration.banks = banks
        }
        if let skew = self.merchantSkew {
            try check(skew >= 0 && skew <= 8, "merchant_skew must be 0 to 8")
            configuration.merchantSkew = skew
        }
        if let timeouts = self.holdTimeoutSeconds {
            try check(
                timeouts.count == 2 && timeouts[0] >= 60 && timeouts[0] <= timeouts[1]
                    && timeouts[1] <= Limits.holdTimeoutSecondsMax / 4,
                "hold_timeout_seconds must be [low, high], 60 ≤ low ≤ high ≤ \(Limits.holdTimeoutSecondsMax / 4)"
            )
            configuration.holdTimeoutSeconds = timeouts[0]...timeouts[1]
        }
        if let rate = self.duplicateRetryRate {
            try check(rate >= 0 && rate <= 0.5, "duplicate_retry_rate must be 0 to 0.5")
            configuration.duplicateRetryRate = rate
        }
        if let rate = self.lateCaptureRate {
            try check(rate >= 0 && rate <= 1, "late_capture_rate must be 0 to 1")
            configuration.lateCaptureRate = rate
        }
        if let mix = self.mix {
            var flows = configuration.mix
            flows.cardCapture = mix.cardCapture ?? flows.cardCapture
            flows.cryptoCapture = mix.cryptoCapture ?? flows.cryptoCapture
            flows.authorisation = mix.authorisation ?? flows.authorisation
            flows.settlement = mix.settlement ?? flows.settlement
            flows.payout = mix.payout ?? flows.payout
            flows.refund = mix.refund ?? flows.refund
            flows.chargeback = mix.chargeback ?? flows.chargeback
            flows.reserveHold = mix.reserveHold ?? flows.reserveHold
            flows.suspenseDeposit = mix.suspenseDeposit ?? flows.suspenseDeposit
            flows.reversal = mix.reversal ?? flows.reversal
            flows.adjustment = mix.adjustment ?? flows.adjustment
            flows.fxSettlementRate = mix.fxSettlementRate ?? flows.fxSettlementRate
            try check(
                flows.fxSettlementRate >= 0 && flows.fxSettlementRate <= 1,
                "mix.fx_settlement_rate must be 0 to 1"
            )
            try check(flows.total > 0, "mix needs at least one flow with a weight")
            configuration.mix = flows
        }
        return configuration
    }

    struct ScenarioError: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }
}
