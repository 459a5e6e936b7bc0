import TallyCore

extension PaymentWorkload {
    /// The shape of a workload: how many merchants, PSPs and banks, which assets, how traffic is
    /// spread over them, how the flows mix, and how fast business time runs.
    ///
    /// The defaults describe a mid-sized platform: 200 merchants, 4 PSPs, 3 banks, USD, EUR, GBP,
    /// USDC and ETH (2,060 accounts), one second of business time per operation.
    ///
    /// **Scaling.** The chart has `assets × (2 × merchants + psps + banks + 5)` accounts.
    /// ``scaled(toAccounts:seed:)`` picks the number of merchants for a target (1,000,000 accounts
    /// with the five default assets is 99,994 merchants) and widens the follow-up queues with it.
    /// For a month of business time in a run of `n` operations, call
    /// ``spreadBusinessTime(seconds:overOperations:)`` (or set ``businessStepNanoseconds``).
    public struct Configuration: Hashable, Sendable {
        /// Everything random in the workload follows from this seed.
        public var seed: UInt64
        /// Merchants, each with a payable and a rolling reserve per asset.
        public var merchants: Int
        /// Payment service providers (card acquirers and crypto processors), each with a
        /// receivable per asset.
        public var psps: Int
        /// Banks (and custodians, for crypto), each with a cash account per asset.
        public var banks: Int
        /// The assets, in creation order. At least one; cards use the fiat ones, crypto payments the
        /// others.
        public var assets: [AssetProfile]
        /// Index in ``assets`` of the currency FX settlements convert into (USD by default).
        public var settlementAssetIndex: Int
        /// Zipf exponent of merchant traffic: merchant `k` (from 1) gets weight `1 / k^skew`. 0 is
        /// uniform; the default 1.1 gives the 10 hottest of 200 merchants about 57% of payments.
        public var merchantSkew: Double
        /// How often each flow starts.
        public var mix: FlowMix
        /// What happens to card authorisations.
        public var authorisations: AuthorisationMix
        /// Engine and business time of the setup and the first operation.
        public var startTime: Timestamp
        /// Business time between consecutive operations: the virtual clock advances by this much
        /// per operation, and each batch is applied at the time of its end.
        public var businessStepNanoseconds: UInt64
        /// Timeouts of card authorisations (log-uniform).
        public var holdTimeoutSeconds: ClosedRange<UInt32>
        /// How long a rolling reserve is held before it is released or retained (log-uniform).
        public var reservePeriodSeconds: ClosedRange<UInt32>
        /// Delay before a refund booked to the refund liability is settled with the PSP.
        public var refundSettlementDelaySeconds: ClosedRange<UInt32>
        /// Delay before a suspense item is resolved, and before a retained reserve is paid back.
        public var resolutionDelaySeconds: ClosedRange<UInt32>
        /// Only captures younger than this are reversed, so the transaction is still retained by
        /// the ledger (7 days by default) when its reversal arrives.
        public var reversalWindowSeconds: UInt32
        /// Fraction of operations a client sends again (same key, same content), one batch later.
        public var duplicateRetryRate: Double
        /// Fraction of authorisations left to expire that the merchant still tries to capture
        /// after the deadline (rejected: `hold_already_final`).
        public var lateCaptureRate: Double
        /// Fraction of wrong-currency deposits that are later resolved out of suspense.
        public var suspenseResolutionRate: Double
        /// Capacity of each follow-up queue (authorisations, rolling reserves, refund settlements,
        /// resolutions). When one is full, a new follow-up is dropped: that hold simply expires.
        public var followUpCapacity: Int
        /// Captures remembered for refunds, chargebacks and reversals (a ring: newest win).
        public var recentCaptureCapacity: Int
        /// Operations waiting to be resent as duplicates.
        public var retryCapacity: Int

        public init(
            seed: UInt64 = 1,
            merchants: Int = 200,
            psps: Int = 4,
            banks: Int = 3,
            assets: [AssetProfile] = AssetProfile.defaults,
            settlementAssetIndex: Int = 0,
            merchantSkew: Double = 1.1,
            mix: FlowMix = FlowMix(),
            authorisations: AuthorisationMix = AuthorisationMix(),
            startTime: Timestamp = Timestamp(secondsSinceEpoch: 1_767_225_600),  // 2026-01-01T00:00:00Z
            businessStepNanoseconds: UInt64 = 1_000_000_000,
            holdTimeoutSeconds: ClosedRange<UInt32> = 3_600...(7 * 86_400),
            reservePeriodSeconds: ClosedRange<UInt32> = (6 * 3_600)...(7 * 86_400),
            refundSettlementDelaySeconds: ClosedRange<UInt32> = 3_600...(2 * 86_400),
            resolutionDelaySeconds: ClosedRange<UInt32> = 1_800...(3 * 86_400),
            reversalWindowSeconds: UInt32 = 86_400,
            duplicateRetryRate: Double = 0.005,
            lateCaptureRate: Double = 0.05,
            suspenseResolutionRate: Double = 0.7,
            followUpCapacity: Int = 1 << 16,
            recentCaptureCapacity: Int = 4_096,
            retryCapacity: Int = 1_024
        ) {
            self.seed = seed
            self.merchants = merchants
            self.psps = psps
            self.banks = banks
            self.assets = assets
            self.settlementAssetIndex = settlementAssetIndex
            self.merchantSkew = merchantSkew
            self.mix = mix
            self.authorisations = authorisations
            self.startTime = startTime
            self.businessStepNanoseconds = businessStepNanoseconds
            self.holdTimeoutSeconds = holdTimeoutSeconds
            self.reservePeriodSeconds = reservePeriodSeconds
            self.refundSettlementDelaySeconds = refundSettlementDelaySeconds
            self.resolutionDelaySeconds = resolutionDelaySeconds
            self.reversalWindowSeconds = reversalWindowSeconds
            self.duplicateRetryRate = duplicateRetryRate
            self.lateCaptureRate = lateCaptureRate
            self.suspenseResolutionRate = suspenseResolutionRate
            self.followUpCapacity = followUpCapacity
            self.recentCaptureCapacity = recentCaptureCapacity
            self.retryCapacity = retryCapacity
        }

        /// The default configuration with as many merchants as fit in `accounts` accounts (at least
        /// one), and follow-up queues sized for that many merchants.
        public static func scaled(toAccounts accounts: Int, seed: UInt64 = 1) -> Configuration {
            var configuration = Configuration(seed: seed)
            let perAsset = accounts / configuration.assets.count
            let fixed = configuration.psps + configuration.banks + AccountLayout.houseKinds.count
            configuration.merchants = max(1, (perAsset - fixed) / 2)
            configuration.followUpCapacity = max(1 << 16, min(1 << 20, configuration.merchants * 4))
            configuration.recentCaptureCapacity = max(4_096, min(1 << 16, configuration.merchants / 4))
            return configuration
        }

        /// Sets the business step so that `operations` operations span `seconds` of business
        /// time: `spreadBusinessTime(seconds: 30 * 86_400, overOperations: 100_000_000)` runs a
        /// month in 100 million operations (26 ms per operation).
        public mutating func spreadBusinessTime(seconds: UInt64, overOperations operations: Int) {
            precondition(operations > 0)
            self.businessStepNanoseconds = seconds * Timestamp.nanosecondsPerSecond / UInt64(operations)
        }

        /// The number of accounts the chart creates.
        public var accountCount: Int {
            self.assets.count * (2 * self.merchants + self.psps + self.banks + AccountLayout.houseKinds.count)
        }

        /// Checks the relationships the workload relies on.
        func validate() {
            precondition(!self.assets.isEmpty && self.assets.count <= 999, "1 to 999 assets")
            precondition(self.merchants >= 1 && self.merchants < 1_000_000_000, "1 to 999,999,999 merchants")
            precondition(self.psps >= 1 && self.psps <= 999, "1 to 999 PSPs")
            precondition(self.banks >= 1 && self.banks <= 999, "1 to 999 banks")
            precondition(self.assets.indices.contains(self.settlementAssetIndex), "settlement asset out of range")
            precondition(self.merchantSkew >= 0 && self.merchantSkew <= 8, "skew between 0 and 8")
            precondition(self.holdTimeoutSeconds.lowerBound >= 60, "hold timeouts of at least a minute")
            precondition(self.holdTimeoutSeconds.upperBound <= Limits.holdTimeoutSecondsMax / 4)
            precondition(self.reservePeriodSeconds.lowerBound >= 1)
            precondition(self.reservePeriodSeconds.upperBound <= Limits.holdTimeoutSecondsMax / 4)
            precondition(self.refundSettlementDelaySeconds.lowerBound >= 1)
            precondition(self.resolutionDelaySeconds.lowerBound >= 1)
            precondition(self.followUpCapacity >= 1 && self.recentCaptureCapacity >= 1 && self.retryCapacity >= 1)
            precondition(self.mix.total > 0, "at least one flow with a weight")
            precondition(self.authorisations.total > 0, "at least one authorisation outcome with a weight")
            for (index, asset) in self.assets.enumerated() {
                precondition(asset.code.isValid && asset.scale <= Limits.assetScaleMax)
                precondition(
                    asset.paymentMinimum >= 1 && asset.paymentMinimum <= asset.paymentTypicalMaximum
                        && asset.paymentTypicalMaximum <= asset.paymentMaximum,
                    "payment amounts of asset \(index) out of order"
                )
                precondition(asset.priceMicroUSD > 0, "asset \(index) needs a reference price")
                for other in self.assets[..<index] {
                    precondition(other.code != asset.code, "asset \(asset.code) listed twice")
                }
            }
        }
    }

    /// One asset of the workload, with what realistic payments in it look like.
    ///
    /// Payment amounts are log-uniform between ``paymentMinimum`` and ``paymentTypicalMaximum``,
    /// and with probability ``tailRate`` log-uniform up to ``paymentMaximum`` (the long tail of
    /// B2B invoices and whales).
    public struct AssetProfile: Hashable, Sendable {
        public var code: AssetCode
        /// Decimal places of the minor unit.
        public var scale: UInt8
        /// Crypto assets are paid with crypto captures (no authorisations, no chargebacks).
        public var isCrypto: Bool
        /// Relative share of payments in this asset, among the fiat or among the crypto assets.
        public var trafficWeight: UInt32
        public var paymentMinimum: UInt128
        public var paymentTypicalMaximum: UInt128
        public var paymentMaximum: UInt128
        public var tailRate: Double
        /// Reference price of one whole unit in millionths of a US dollar; FX rates come from it.
        public var priceMicroUSD: UInt64
        /// Processing fee: basis points of the amount plus a fixed amount in minor units.
        public var feeBasisPoints: UInt32
        public var feeFixed: UInt128
        /// Fee charged to the merchant per chargeback, in minor units.
        public var chargebackFee: UInt128

        public init(
            code: AssetCode,
            scale: UInt8,
            isCrypto: Bool,
            trafficWeight: UInt32,
            paymentMinimum: UInt128,
            paymentTypicalMaximum: UInt128,
            paymentMaximum: UInt128,
            tailRate: Double,
            priceMicroUSD: UInt64,
            feeBasisPoints: UInt32,
            feeFixed: UInt128,
            chargebackFee: UInt128
        ) {
            self.code = code
            self.scale = scale
            self.isCrypto = isCrypto
            self.trafficWeight = trafficWeight
            self.paymentMinimum = paymentMinimum
            self.paymentTypicalMaximum = paymentTypicalMaximum
            self.paymentMaximum = paymentMaximum
            self.tailRate = tailRate
            self.priceMicroUSD = priceMicroUSD
            self.feeBasisPoints = feeBasisPoints
            self.feeFixed = feeFixed
            self.chargebackFee = chargebackFee
        }

        /// `units` whole units in minor units.
        public func major(_ units: UInt128) -> UInt128 {
            var value = units
            for _ in 0..<self.scale {
                value *= 10
            }
            return value
        }

        /// A card currency: payments 1.00 to 2,000.00, a 2% tail up to 50,000.00, 2.9% + 0.30.
        public static func fiat(_ code: AssetCode, priceMicroUSD: UInt64, trafficWeight: UInt32) -> AssetProfile {
            AssetProfile(
                code: code,
                scale: 2,
                isCrypto: false,
                trafficWeight: trafficWeight,
                paymentMinimum: 1_00,
                paymentTypicalMaximum: 2_000_00,
                paymentMaximum: 50_000_00,
                tailRate: 0.02,
                priceMicroUSD: priceMicroUSD,
                feeBasisPoints: 290,
                feeFixed: 30,
                chargebackFee: 15_00
            )
        }

        public static let usd = AssetProfile.fiat("USD", priceMicroUSD: 1_000_000, trafficWeight: 60)
        public static let eur = AssetProfile.fiat("EUR", priceMicroUSD: 1_084_200, trafficWeight: 28)
        public static let gbp = AssetProfile.fiat("GBP", priceMicroUSD: 1_271_500, trafficWeight: 12)
        /// USDC, scale 6: payments 1 to 5,000 USDC, a 3% tail up to 250,000; 1% fee.
        public static let usdc = AssetProfile(
            code: "USDC",
            scale: 6,
            isCrypto: true,
            trafficWeight: 75,
            paymentMinimum: 1_000_000,
            paymentTypicalMaximum: 5_000_000_000,
            paymentMaximum: 250_000_000_000,
            tailRate: 0.03,
            priceMicroUSD: 999_800,
            feeBasisPoints: 100,
            feeFixed: 0,
            chargebackFee: 0
        )
        /// ETH, scale 18 (amounts in wei): payments 0.001 to 2 ETH, a 2% tail up to 200 ETH; 1% fee.
        public static let eth = AssetProfile(
            code: "ETH",
            scale: 18,
            isCrypto: true,
            trafficWeight: 25,
            paymentMinimum: 1_000_000_000_000_000,
            paymentTypicalMaximum: 2_000_000_000_000_000_000,
            paymentMaximum: 200_000_000_000_000_000_000,
            tailRate: 0.02,
            priceMicroUSD: 3_150_250_000,
            feeBasisPoints: 100,
            feeFixed: 0,
            chargebackFee: 0
        )

        /// USD, EUR, GBP, USDC, ETH.
        public static let defaults: [AssetProfile] = [.usd, .eur, .gbp, .usdc, .eth]
    }

    /// Relative weights of the flows a workload starts. Follow-ups (captures of an authorisation,
    /// reserve releases, refund settlements, suspense resolutions) are not drawn from the mix: they
    /// happen when due. A flow that has nothing to act on yet (a payout before any balance) becomes
    /// a card capture.
    public struct FlowMix: Hashable, Sendable {
        public var cardCapture: UInt32
        public var cryptoCapture: UInt32
        public var authorisation: UInt32
        /// Settlements; one from a currency other than the settlement asset is converted (FX) with
        /// probability ``fxSettlementRate``.
        public var settlement: UInt32
        public var payout: UInt32
        public var refund: UInt32
        public var chargeback: UInt32
        public var reserveHold: UInt32
        public var suspenseDeposit: UInt32
        public var reversal: UInt32
        public var adjustment: UInt32
        public var fxSettlementRate: Double

        /// The default mix, in starts per 10,000.
        public init(
            cardCapture: UInt32 = 5_200,
            cryptoCapture: UInt32 = 600,
            authorisation: UInt32 = 1_800,
            settlement: UInt32 = 250,
            payout: UInt32 = 700,
            refund: UInt32 = 450,
            chargeback: UInt32 = 60,
            reserveHold: UInt32 = 250,
            suspenseDeposit: UInt32 = 40,
            reversal: UInt32 = 30,
            adjustment: UInt32 = 20,
            fxSettlementRate: Double = 0.4
        ) {
            self.cardCapture = cardCapture
            self.cryptoCapture = cryptoCapture
            self.authorisation = authorisation
            self.settlement = settlement
            self.payout = payout
            self.refund = refund
            self.chargeback = chargeback
            self.reserveHold = reserveHold
            self.suspenseDeposit = suspenseDeposit
            self.reversal = reversal
            self.adjustment = adjustment
            self.fxSettlementRate = fxSettlementRate
        }

        /// The weights in draw order.
        var weights: [UInt32] {
            [
                self.cardCapture, self.cryptoCapture, self.authorisation, self.settlement, self.payout,
                self.refund, self.chargeback, self.reserveHold, self.suspenseDeposit, self.reversal,
                self.adjustment,
            ]
        }

        /// The sum of the weights.
        public var total: UInt64 { self.weights.reduce(0) { $0 + UInt64($1) } }
    }

    /// Relative weights of what happens to a card authorisation after its hold.
    public struct AuthorisationMix: Hashable, Sendable {
        /// One capture of everything.
        public var captureInFull: UInt32
        /// Two or three partial captures (split shipments); the last finishes the hold, by amount
        /// or marked final, or a void releases the rest.
        public var captureInParts: UInt32
        /// An incremental authorisation, then a capture.
        public var increaseThenCapture: UInt32
        /// Cancelled before capture.
        public var void: UInt32
        /// Never captured: the engine expires it at its deadline.
        public var expire: UInt32

        public init(
            captureInFull: UInt32 = 58,
            captureInParts: UInt32 = 14,
            increaseThenCapture: UInt32 = 8,
            void: UInt32 = 10,
            expire: UInt32 = 10
        ) {
            self.captureInFull = captureInFull
            self.captureInParts = captureInParts
            self.increaseThenCapture = increaseThenCapture
            self.void = void
            self.expire = expire
        }

        var weights: [UInt32] {
            [self.captureInFull, self.captureInParts, self.increaseThenCapture, self.void, self.expire]
        }

        var total: UInt64 { self.weights.reduce(0) { $0 + UInt64($1) } }
    }
}
