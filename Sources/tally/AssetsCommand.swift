import ArgumentParser
import TallyClient
import TallyCore

/// `tally assets create|show`.
struct AssetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assets",
        abstract: "Define assets (before the accounts that hold them) and show their totals.",
        subcommands: [AssetsCreateCommand.self, AssetsShowCommand.self]
    )
}

struct AssetsCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Define an asset: its code and scale (decimal places), which never change.",
        discussion:
            "Defining it again with the same scale is a no-op (ok, replay). Exit status: 0 defined, 1 rejected, and as for every client command (docs/CLI.md)."
    )

    @OptionGroup var options: ClientOptions

    @Argument(
        help: "The code: 1 to 16 characters of A-Z, 0-9, '.', '-' and '_' (USD, EUR, USDC, ETH).",
        transform: FlagValue.asset
    )
    var code: AssetCode

    @Option(name: .long, help: "Decimal places of one major unit: 2 for USD, 8 for BTC, 18 for ETH (at most 38).")
    var scale: UInt8

    @Flag(name: .long, help: "Acknowledge once applied, before it is durable.")
    var applied = false

    func run() async throws {
        try await SingleOperation.run(
            .createAsset(CreateAsset(code: self.code, scale: self.scale)),
            options: self.options,
            acknowledgement: self.applied ? .applied : .durable
        )
    }
}

struct AssetsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show assets: scale and totals over every account.",
        discussion:
            "Exit status: 0 when every asset exists, 1 when one does not, and as for every client command (docs/CLI.md)."
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var read: ReadOptions

    @Argument(help: "Asset codes.", transform: FlagValue.asset)
    var codes: [AssetCode]

    func validate() throws {
        guard !self.codes.isEmpty else { throw ValidationError("Give at least one asset code.") }
        guard self.codes.count <= Limits.assetsMax else { throw ValidationError("At most \(Limits.assetsMax) codes.") }
    }

    func run() async throws {
        try await ClientSession.run(self.options) { client in
            var assets: [AssetInfo?] = []
            let limit = client.server.limits.operationsPerRequestMax
            var start = 0
            while start < self.codes.count {
                let chunk = Array(self.codes[start..<min(start + limit, self.codes.count)])
                assets += try await client.assets(chunk, consistency: self.read.consistency)
                start += limit
            }
            if self.options.json {
                print(LedgerValuesJSON.assets(self.codes, assets).serialized())
            } else {
                var table = TextTable([
                    ("asset", .left), ("scale", .right), ("posted", .right), ("pending", .right),
                ])
                var missing: [AssetCode] = []
                for (code, asset) in zip(self.codes, assets) {
                    guard let asset else {
                        missing.append(code)
                        continue
                    }
                    var format = AmountFormatter(minorUnits: self.read.minorUnits)
                    format.scales[code] = asset.scale
                    // Debits equal credits per asset: one figure says the volume.
                    table.append([
                        code.description, String(asset.scale), format.number(asset.totals.debitsPosted, code),
                        format.number(asset.totals.debitsPending, code),
                    ])
                }
                if !table.rows.isEmpty {
                    table.print()
                }
                for code in missing {
                    print("asset \(code): not found")
                }
            }
            return assets.contains(nil) ? ClientExitCode.rejected : ClientExitCode.success
        }
    }
}
