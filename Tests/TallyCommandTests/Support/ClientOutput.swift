/// The `--json` objects of the client commands as docs/CLI.md promises them, field by field (snake
/// case keys decoded into these names; a missing non-optional field fails the decode).
enum ClientOutput {
    /// A result object.
    struct Result: Decodable, Sendable, Equatable {
        var index: Int
        var line: Int?
        var op: String
        var key: String?
        var code: String
        var codeNumber: UInt16
        var detail: UInt16
        var replay: Bool
        var transactionId: UInt64
        var sequence: UInt64
        var recordedTime: UInt64
    }

    struct Balance: Decodable, Sendable, Equatable {
        var debitsPosted: String
        var creditsPosted: String
        var debitsPending: String
        var creditsPending: String
    }

    struct Account: Decodable, Sendable {
        var id: UInt64
        var found: Bool
        var asset: String?
        var kind: String?
        var normalSide: String?
        var merchant: UInt64?
        var partner: UInt64?
        var flags: [String]?
        var status: String?
        var balance: Balance?
        var posted: String?
        var available: String?
    }

    struct Accounts: Decodable, Sendable {
        var accounts: [Account]
    }

    struct Asset: Decodable, Sendable {
        var code: String
        var found: Bool
        var scale: UInt8?
        var totals: Balance?
    }

    struct Assets: Decodable, Sendable {
        var assets: [Asset]
    }

    struct Aggregate: Decodable, Sendable {
        var kind: String
        var asset: String
        var dimension: String
        var value: UInt64?
        var found: Bool
        var balance: Balance
    }

    struct Page: Decodable, Sendable {
        struct Entry: Decodable, Sendable {
            var value: UInt64
            var balance: Balance
        }

        var kind: String
        var asset: String
        var grouping: String
        var start: UInt64
        var entries: [Entry]
        var hasMore: Bool
        var nextStart: UInt64?
    }

    struct Leg: Decodable, Sendable, Equatable {
        var account: UInt64
        var side: String
        var amount: String
    }

    struct Transaction: Decodable, Sendable {
        var id: UInt64
        var op: String
        var type: String
        var key: String
        var legs: [Leg]
        var fxRates: [FXRate]
        var paymentId: String?
        var providerReference: String?
        var effectiveTime: UInt64
        var recordedTime: UInt64
        var actor: UInt64
        var reason: UInt32
        var link: UInt64
        var released: String
        var deadline: UInt64
        var final: Bool

        struct FXRate: Decodable, Sendable {
            var base: String
            var quote: String
            var numerator: UInt64
            var denominator: UInt64
        }
    }

    struct Lookup: Decodable, Sendable {
        var id: UInt64
        var status: String
        var transaction: Transaction?
    }

    struct KeyRecord: Decodable, Sendable {
        struct Remembered: Decodable, Sendable {
            var code: String
            var codeNumber: UInt16
            var detail: UInt16
            var replay: Bool
            var transactionId: UInt64
        }

        var key: String
        var found: Bool
        var result: Remembered?
        var transaction: Transaction?
    }

    struct Hold: Decodable, Sendable {
        var id: UInt64
        var debit: UInt64
        var credit: UInt64
        var type: String
        var amount: String
        var captured: String
        var remaining: String
        var deadline: UInt64
    }

    struct OpenHold: Decodable, Sendable {
        var id: UInt64
        var found: Bool
        var hold: Hold?
    }

    struct Failure: Decodable, Sendable {
        struct Problem: Decodable, Sendable {
            var line: Int
            var column: Int?
            var path: String?
            var message: String
        }

        struct Body: Decodable, Sendable {
            var kind: String
            var message: String
            var exitCode: Int32
            var status: String?
            var problems: [Problem]?
            var problemCount: Int?
        }

        var error: Body
    }
}
