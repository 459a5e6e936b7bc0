import TallyCore

// assets (opcode 0x24): each asset's scale and totals over every account. Request flag bit 0:
// read applied rather than durable state.
//
//   request                                  reply
//   0  4  count N (1 to the server's          0  4  count N, as asked
//         operations-per-request limit)       4  82N  per asset, in request order:
//   4  16N asset codes                          +0   1   found: 1, or 0 (no such asset; the rest zero)
//                                               +1   16  code
//                                               +17  1   scale (decimal places)
//                                               +18  64  totals (debits equal credits)

/// Assets by code.
public struct AssetsRequest: Hashable, Sendable {
    public var codes: [AssetCode]
    public var consistency: ReadConsistency

    public init(_ codes: [AssetCode], consistency: ReadConsistency = .durable) {
        self.codes = codes
        self.consistency = consistency
    }

    func encode(into bytes: inout [UInt8]) {
        precondition(!self.codes.isEmpty, "a read of no assets")
        bytes.putCount(self.codes.count, as: UInt32.self, ceiling: WireProtocol.operationsPerRequestCeiling)
        for code in self.codes {
            bytes.put(code.rawValue)
        }
    }

    static func decode(
        _ reader: inout WireReader,
        consistency: ReadConsistency,
        limits: ConnectionLimits
    ) throws(WireError) -> AssetsRequest {
        let count = try reader.readCount(
            UInt32.self,
            "the asset count",
            ceiling: WireProtocol.operationsPerRequestCeiling,
            limit: limits.operationsPerRequestMax,
            itemBytes: 16
        )
        var codes: [AssetCode] = []
        codes.reserveCapacity(count)
        for _ in 0..<count {
            codes.append(AssetCode(rawValue: try reader.read("an asset code")))
        }
        try reader.expectEnd()
        return AssetsRequest(codes, consistency: consistency)
    }
}

/// One asset per code asked for, nil where it does not exist.
public struct AssetsReply: Hashable, Sendable {
    public var assets: [AssetInfo?]

    public init(_ assets: [AssetInfo?]) {
        self.assets = assets
    }

    static let itemBytes = 18 + BalanceLayout.bytes

    func encode(into bytes: inout [UInt8]) {
        bytes.putCount(self.assets.count, as: UInt32.self, ceiling: WireProtocol.operationsPerRequestCeiling)
        for asset in self.assets {
            guard let asset else {
                bytes.append(contentsOf: repeatElement(0, count: Self.itemBytes))
                continue
            }
            bytes.put(true)
            bytes.put(asset.code.rawValue)
            bytes.put(asset.scale)
            asset.totals.encode(into: &bytes)
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> AssetsReply {
        let count = try decodeReplyCount(&reader, "the asset count", itemBytes: Self.itemBytes)
        var assets: [AssetInfo?] = []
        assets.reserveCapacity(count)
        for _ in 0..<count {
            guard try decodeFound(&reader, "an asset's found byte", itemBytes: Self.itemBytes) else {
                assets.append(nil)
                continue
            }
            assets.append(
                AssetInfo(
                    code: AssetCode(rawValue: try reader.read("an asset's code")),
                    scale: try reader.read("an asset's scale"),
                    totals: try Balance.decode(&reader)
                )
            )
        }
        try reader.expectEnd()
        return AssetsReply(assets)
    }
}
