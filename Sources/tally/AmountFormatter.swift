import TallyClient
import TallyCore
import TallyWire

/// Writes amounts for people: in major units by the asset's scale (`12.50 USD`), or in minor units
/// with `--minor-units` (`1250 USD`), and in minor units when the asset's scale is not known.
struct AmountFormatter {
    var scales: [AssetCode: UInt8] = [:]
    var minorUnits = false

    /// Learns the scales of `codes` from the server (one request; nothing when minor units are asked).
    static func load(
        _ codes: some Sequence<AssetCode>,
        client: TallyClient,
        consistency: ReadConsistency,
        minorUnits: Bool
    ) async throws -> AmountFormatter {
        var formatter = AmountFormatter(minorUnits: minorUnits)
        guard !minorUnits else { return formatter }
        var unique: [AssetCode] = []
        for code in codes where !unique.contains(code) {
            unique.append(code)
        }
        let limit = client.server.limits.operationsPerRequestMax
        var start = 0
        while start < unique.count {
            let chunk = Array(unique[start..<min(start + limit, unique.count)])
            for (code, info) in zip(chunk, try await client.assets(chunk, consistency: consistency)) {
                if let info {
                    formatter.scales[code] = info.scale
                }
            }
            start += limit
        }
        return formatter
    }

    /// The number alone.
    func number(_ amount: UInt128, _ asset: AssetCode) -> String {
        guard !self.minorUnits, let scale = self.scales[asset] else { return String(amount) }
        return LedgerText.major(amount, scale: scale)
    }

    func number(_ amount: SignedAmount, _ asset: AssetCode) -> String {
        guard !self.minorUnits, let scale = self.scales[asset] else { return amount.description }
        return LedgerText.major(amount, scale: scale)
    }

    /// The number and the asset: `12.50 USD`.
    func callAsFunction(_ amount: UInt128, _ asset: AssetCode) -> String {
        self.number(amount, asset) + " " + asset.description
    }

    func callAsFunction(_ amount: SignedAmount, _ asset: AssetCode) -> String {
        self.number(amount, asset) + " " + asset.description
    }
}
