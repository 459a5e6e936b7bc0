import TallyCore

extension PaymentWorkload {
    /// The chart of accounts: every account's dense index (where the workload tracks its expected
    /// balance) and its id.
    ///
    /// Dense indices run, each block one account per asset: merchant payables (merchant-major),
    /// rolling reserves, PSP receivables, bank cash, then the platform's own accounts (fee revenue,
    /// refund liability, chargeback reserve, FX position, suspense). The setup creates them in that
    /// order, after the assets.
    ///
    /// Ids read in decimal: `kind × 10^12 + owner × 10^3 + asset number`, where the owner is the
    /// merchant, PSP or bank number (from 1) and 0 for the platform's accounts, and the asset
    /// number counts from 1. So 1_000_000_042_002 is merchant 42's payable in the second asset and
    /// 10_000_000_000_003 the suspense account of the third.
    ///
    /// Dimensions: merchant accounts carry their merchant number; PSP receivables the partner
    /// 1000 + PSP number, bank cash 2000 + bank number.
    struct AccountLayout: Sendable {
        /// The platform's own accounts per asset, in dense order.
        static let houseKinds: [AccountKind] = [
            .feeRevenue, .refundLiability, .chargebackReserve, .fxGainLoss, .suspense,
        ]

        enum House: Int {
            case feeRevenue = 0
            case refundLiability = 1
            case chargebackReserve = 2
            case fxPosition = 3
            case suspense = 4
        }

        /// An account as the flows use it: its dense index and its id.
        struct Account: Sendable {
            var slot: Int
            var id: AccountID
        }

        static let pspPartnerBase: UInt64 = 1_000
        static let bankPartnerBase: UInt64 = 2_000

        let merchants: Int
        let psps: Int
        let banks: Int
        let assets: Int

        init(_ configuration: Configuration) {
            self.merchants = configuration.merchants
            self.psps = configuration.psps
            self.banks = configuration.banks
            self.assets = configuration.assets.count
        }

        var count: Int { self.assets * (2 * self.merchants + self.psps + self.banks + AccountLayout.houseKinds.count) }

        @inline(__always)
        private static func id(kind: AccountKind, owner: Int, asset: Int) -> AccountID {
            AccountID(UInt64(kind.rawValue) * 1_000_000_000_000 + UInt64(owner) * 1_000 + UInt64(asset + 1))
        }

        @inline(__always)
        func merchantPayable(_ merchant: Int, _ asset: Int) -> Account {
            Account(
                slot: merchant * self.assets + asset,
                id: AccountLayout.id(kind: .merchantPayable, owner: merchant + 1, asset: asset)
            )
        }

        @inline(__always)
        func rollingReserve(_ merchant: Int, _ asset: Int) -> Account {
            Account(
                slot: (self.merchants + merchant) * self.assets + asset,
                id: AccountLayout.id(kind: .rollingReserve, owner: merchant + 1, asset: asset)
            )
        }

        @inline(__always)
        func pspReceivable(_ psp: Int, _ asset: Int) -> Account {
            Account(
                slot: (2 * self.merchants + psp) * self.assets + asset,
                id: AccountLayout.id(kind: .pspReceivable, owner: psp + 1, asset: asset)
            )
        }

        @inline(__always)
        func bankCash(_ bank: Int, _ asset: Int) -> Account {
            Account(
                slot: (2 * self.merchants + self.psps + bank) * self.assets + asset,
                id: AccountLayout.id(kind: .bankCash, owner: bank + 1, asset: asset)
            )
        }

        @inline(__always)
        func house(_ house: House, _ asset: Int) -> Account {
            Account(
                slot: (2 * self.merchants + self.psps + self.banks + house.rawValue) * self.assets + asset,
                id: AccountLayout.id(kind: AccountLayout.houseKinds[house.rawValue], owner: 0, asset: asset)
            )
        }

        /// The definition of the account at dense index `slot`, with the constraints a real ledger
        /// puts on it: what is owed to merchants, reserves and refund liabilities must not go
        /// negative (debits must not exceed credits), nor may cash at a bank (credits must not
        /// exceed debits). Receivables, revenue, FX positions and suspense may swing either way.
        func definition(at slot: Int, assetCodes: [AssetCode]) -> CreateAccount {
            let asset = slot % self.assets
            let owner = slot / self.assets
            let code = assetCodes[asset]
            if owner < self.merchants {
                return CreateAccount(
                    id: self.merchantPayable(owner, asset).id,
                    asset: code,
                    kind: .merchantPayable,
                    merchant: UInt64(owner + 1),
                    flags: .debitsMustNotExceedCredits
                )
            }
            if owner < 2 * self.merchants {
                let merchant = owner - self.merchants
                return CreateAccount(
                    id: self.rollingReserve(merchant, asset).id,
                    asset: code,
                    kind: .rollingReserve,
                    merchant: UInt64(merchant + 1),
                    flags: .debitsMustNotExceedCredits
                )
            }
            if owner < 2 * self.merchants + self.psps {
                let psp = owner - 2 * self.merchants
                return CreateAccount(
                    id: self.pspReceivable(psp, asset).id,
                    asset: code,
                    kind: .pspReceivable,
                    partner: AccountLayout.pspPartnerBase + UInt64(psp + 1)
                )
            }
            if owner < 2 * self.merchants + self.psps + self.banks {
                let bank = owner - 2 * self.merchants - self.psps
                return CreateAccount(
                    id: self.bankCash(bank, asset).id,
                    asset: code,
                    kind: .bankCash,
                    partner: AccountLayout.bankPartnerBase + UInt64(bank + 1),
                    flags: .creditsMustNotExceedDebits
                )
            }
            let house = House(rawValue: owner - 2 * self.merchants - self.psps - self.banks)!
            let flags: AccountFlags
            switch house {
            case .refundLiability, .chargebackReserve:
                flags = .debitsMustNotExceedCredits
            case .feeRevenue, .fxPosition, .suspense:
                flags = []
            }
            return CreateAccount(
                id: self.house(house, asset).id,
                asset: code,
                kind: AccountLayout.houseKinds[house.rawValue],
                flags: flags
            )
        }
    }
}
