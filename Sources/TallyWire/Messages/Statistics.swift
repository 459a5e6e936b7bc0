// statistics (opcode 0x03): the request has no payload. The reply is a list of named values, so
// a server can add statistics without a protocol change:
//
//   0  2  count N (0-1,024)
//   then N entries, back to back:
//   +0 1  name length L (1-64)
//   +1 L  name: ASCII a-z, 0-9, '_' and '.', unique within the reply
//   +L+1 1  kind: 1 counter (only grows while the server runs), 2 gauge (a current value)
//   +L+2 8  value, u64

/// Whether a statistic counts events or measures a current value.
public enum StatisticKind: UInt8, Hashable, Sendable, CaseIterable {
    /// A count that only grows while the server runs (requests served, operations applied).
    case counter = 1
    /// A current value (connections open, the durable sequence, bytes held, a latency percentile).
    case gauge = 2
}

/// One named value of a statistics reply.
public struct Statistic: Hashable, Sendable {
    /// 1 to ``WireProtocol/statisticNameBytesMax`` characters of a-z, 0-9, `_` and `.`.
    public var name: String
    public var kind: StatisticKind
    public var value: UInt64

    public init(_ name: String, _ kind: StatisticKind, _ value: UInt64) {
        precondition(Statistic.isValidName(name), "an invalid statistic name: \(name)")
        self.name = name
        self.kind = kind
        self.value = value
    }

    /// Whether `name` may name a statistic.
    public static func isValidName(_ name: String) -> Bool {
        (1...WireProtocol.statisticNameBytesMax).contains(name.utf8.count) && name.utf8.allSatisfy(isNameCharacter)
    }

    /// Whether `byte` may appear in a statistic's name.
    public static func isNameCharacter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }
}

/// The statistics reply: the server's counters and gauges, in the server's order.
public struct StatisticsReply: Hashable, Sendable {
    /// At most ``WireProtocol/statisticsMax``, names unique.
    public var statistics: [Statistic]

    public init(_ statistics: [Statistic]) {
        precondition(statistics.count <= WireProtocol.statisticsMax, "more than 1,024 statistics")
        precondition(Set(statistics.map(\.name)).count == statistics.count, "two statistics with one name")
        self.statistics = statistics
    }

    /// The value named `name`, if the reply has it.
    public subscript(name: String) -> UInt64? {
        self.statistics.first { $0.name == name }?.value
    }

    /// The smallest entry: a one-character name.
    static let entryBytesMin = 1 + 1 + 1 + 8

    func encode(into bytes: inout [UInt8]) {
        bytes.putCount(self.statistics.count, as: UInt16.self, ceiling: WireProtocol.statisticsMax)
        for statistic in self.statistics {
            bytes.putText(statistic.name, lengthAs: UInt8.self, maximum: WireProtocol.statisticNameBytesMax)
            bytes.put(statistic.kind.rawValue)
            bytes.put(statistic.value)
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> StatisticsReply {
        let count = try reader.readCount(
            UInt16.self,
            "the statistics count",
            minimum: 0,
            ceiling: WireProtocol.statisticsMax,
            itemBytes: Self.entryBytesMin
        )
        var statistics: [Statistic] = []
        statistics.reserveCapacity(count)
        var names = Set<String>()
        for _ in 0..<count {
            let nameOffset = reader.offset
            let name = try reader.readText(
                UInt8.self,
                "a statistic's name",
                maximum: WireProtocol.statisticNameBytesMax,
                allowEmpty: false,
                alphabet: Statistic.isNameCharacter
            )
            guard names.insert(name).inserted else {
                throw .malformed(.valueOutOfRange, at: nameOffset, "the statistic \(name) appears twice")
            }
            let kindOffset = reader.offset
            let rawKind: UInt8 = try reader.read("a statistic's kind")
            guard let kind = StatisticKind(rawValue: rawKind) else {
                throw .malformed(.valueOutOfRange, at: kindOffset, "statistic kind \(rawKind) is not 1 or 2")
            }
            statistics.append(Statistic(name, kind, try reader.read("a statistic's value")))
        }
        try reader.expectEnd()
        return StatisticsReply(statistics)
    }
}
