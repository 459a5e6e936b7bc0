import ArgumentParser
import Foundation
import TallyCore
import TallyTestKit
import TallyWire
import Testing

@testable import tally

/// docs/CLI.md cannot drift from the commands: its operation lines are read by the commands' own
/// reader, its error messages, canonical form and JSON objects are what the code writes, byte for
/// byte, and every flag of every command it describes is in it. (Its walkthrough is run against a
/// server in ClientCommandTests.)
@Suite("docs/CLI.md")
struct CLIDocumentTests {
    static let blocks: [MarkdownBlock] = (try? MarkdownBlock.parse(MarkdownBlock.cliDocument())) ?? []

    static func blocks(_ kind: String) -> [MarkdownBlock] {
        Self.blocks.filter { $0.info.count >= 2 && $0.info[1] == kind }
    }

    static func block(_ kind: String) throws -> MarkdownBlock {
        let found = Self.blocks(kind)
        try #require(found.count == 1, "one `\(kind)` block in docs/CLI.md, found \(found.count)")
        return found[0]
    }

    @Test func everyOperationExampleIsReadAndRoundTrips() throws {
        let examples =
            Self.blocks("operations") + Self.blocks.filter { $0.info.count >= 2 && $0.info[1].hasPrefix("file=") }
        #expect(examples.count >= 3)
        var kinds: Set<OperationKind> = []
        for block in examples {
            let input = OperationInput.read(block.text)
            #expect(input.problems.isEmpty, "docs/CLI.md line \(block.line): \(input.problems)")
            #expect(input.count == block.lines.filter { !$0.isEmpty }.count)
            for index in 0..<input.count {
                let linked = LinkedOperation(input.batch.operation(at: index), linked: input.batch.isLinked(at: index))
                kinds.insert(linked.operation.kind)
                let canonical = OperationJSON.encode(linked).serialized()
                #expect(try OperationJSON.decode(JSONValue.parse(Array(canonical.utf8))) == linked)
            }
        }
        #expect(kinds == Set(OperationKind.allCases).subtracting([.expireHold]), "every client kind has an example")
    }

    @Test func theCanonicalFormIsWhatCheckPrints() throws {
        let canonical = try Self.block("canonical")
        let examples = OperationInput.read(try #require(Self.blocks("operations").first).text)
        let key = try LedgerText.key("5ee0c0de000000000000000000000001").get()
        let index = try #require((0..<examples.count).first { examples.batch.operation(at: $0).header?.key == key })
        let linked = LinkedOperation(examples.batch.operation(at: index), linked: examples.batch.isLinked(at: index))
        #expect(OperationJSON.encode(linked).serialized() == canonical.text)
    }

    @Test func theBadInputGetsExactlyTheDocumentedErrors() throws {
        let input = OperationInput.read(try Self.block("bad-input").text)
        let errors = try Self.block("errors")
        #expect(input.problems.map(\.description) == errors.lines)
        #expect(input.count == 1, "only the last line is a good operation (linked, so the input is refused)")
    }

    static let key = IdempotencyKey(bytes: [0x5E, 0xE0, 0xC0, 0xDE] + [UInt8](repeating: 0, count: 11) + [3])!

    @Test func theJSONObjectsAreWhatTheCommandsWrite() throws {
        let recorded = Timestamp(nanosecondsSinceEpoch: 1_763_800_000_123_456_789)
        let result = SubmittedResult(
            index: 3,
            line: 8,
            operation: .capture(TransactionHeader(key: Self.key, type: .capture), CaptureTerms(hold: 2, amount: 300)),
            result: OperationResult(code: .captureExceedsHold),
            sequence: 42,
            recordedTime: recorded
        )
        #expect(result.json.serialized() == (try Self.block("result").text))

        let merchant = AccountInfo(
            id: 1001,
            asset: "USD",
            kind: .merchantPayable,
            normalSide: .credit,
            merchant: 7,
            partner: 0,
            flags: [],
            status: .open,
            balance: Balance(creditsPosted: 1_200)
        )
        guard case .object(let accounts) = LedgerValuesJSON.accounts([1001], [merchant]),
            case .array(let entries) = accounts[0].value
        else { throw CancellationError() }
        #expect(entries[0].serialized() == (try Self.block("account").text))

        let asset = AssetInfo(
            code: "USD",
            scale: 2,
            totals: Balance(debitsPosted: 2_500, creditsPosted: 2_500, debitsPending: 500, creditsPending: 500)
        )
        guard case .object(let assets) = LedgerValuesJSON.assets(["USD"], [asset]),
            case .array(let assetEntries) = assets[0].value
        else { throw CancellationError() }
        #expect(assetEntries[0].serialized() == (try Self.block("asset").text))

        let aggregate = Balance(creditsPosted: 1_200, debitsPending: 500)
        #expect(
            LedgerValuesJSON.aggregate(kind: .merchantPayable, asset: "USD", .merchant(7), aggregate).serialized()
                == (try Self.block("aggregate").text)
        )
        #expect(
            LedgerValuesJSON.page(
                kind: .merchantPayable,
                asset: "USD",
                grouping: .merchant,
                start: 0,
                entries: [AggregateEntry(value: 7, balance: aggregate)],
                nextStart: nil
            ).serialized() == (try Self.block("page").text)
        )

        let hold = HoldInfo(
            id: 2,
            debit: 1001,
            credit: 2001,
            type: .capture,
            amount: 500,
            captured: 300,
            deadline: Timestamp(nanosecondsSinceEpoch: 1_763_800_604_800_000_000)
        )
        #expect(LedgerValuesJSON.hold(hold).serialized() == (try Self.block("hold").text))

        let record = TransactionRecord(
            id: 1,
            kind: .post,
            type: .capture,
            key: IdempotencyKey(bytes: [0x5E, 0xE0, 0xC0, 0xDE] + [UInt8](repeating: 0, count: 11) + [1])!,
            legs: [.debit(2001, 1_250), .credit(1001, 1_200), .credit(4001, 50)],
            references: ExternalReferences(paymentID: "pay_8Xk2"),
            recordedTime: recorded
        )
        #expect(LedgerValuesJSON.lookup(1, .found(record)).serialized() == (try Self.block("lookup").text))

        let remembered = IdempotencyRecord(
            key: Self.key,
            result: OperationResult(code: .captureExceedsHold),
            transaction: nil
        )
        #expect(
            LedgerValuesJSON.idempotencyRecord(Self.key, remembered).serialized() == (try Self.block("key-record").text)
        )

        let badInput = OperationInput.read(
            "{\"op\":\"create_asset\",\"code\":\"USD\",\"scale\":2}\n{\"op\":\"post\",\"type\":\"capture\",\"legs\":[]}"
        )
        #expect(ClientFailure.badInput(badInput).json.serialized() == (try Self.block("failure").text))
    }

    /// The client commands, `serve`, `load` and `drill`, with the path that names them.
    static let commands: [(String, any ParsableCommand.Type)] = [
        ("serve", ServeCommand.self), ("assets create", AssetsCreateCommand.self),
        ("assets show", AssetsShowCommand.self), ("accounts create", AccountsCreateCommand.self),
        ("accounts show", AccountsShowCommand.self), ("accounts freeze", AccountsFreezeCommand.self),
        ("accounts reopen", AccountsReopenCommand.self), ("accounts close", AccountsCloseCommand.self),
        ("post", PostCommand.self), ("hold", HoldCommand.self), ("capture", CaptureCommand.self),
        ("increase", IncreaseCommand.self), ("void", VoidCommand.self), ("reverse", ReverseCommand.self),
        ("balance", BalanceCommand.self), ("lookup", LookupCommand.self), ("stats", StatsCommand.self),
        ("load", LoadCommand.self), ("drill", DrillCommand.self),
    ]

    @Test func everyFlagOfEveryClientCommandIsDocumented() throws {
        let document = try MarkdownBlock.cliDocument()
        for (name, command) in Self.commands {
            #expect(document.contains("### tally \(name.split(separator: " ")[0])"), "a section for \(name)")
            let help = command.helpMessage(columns: 400)
            let flags = Set(help.matches(of: /--[a-z][a-z0-9-]+/).map { String($0.output) })
                .subtracting(["--help", "--version"])
            #expect(!flags.isEmpty, "\(name)")
            for flag in flags {
                let mention = try Regex("(^|[^a-z0-9-])\(flag)(?![a-z0-9-])")
                #expect(document.contains(mention), "tally \(name) \(flag) is not in docs/CLI.md")
            }
        }
    }

    @Test func theExitCodeTableIsTheCodes() throws {
        let document = try MarkdownBlock.cliDocument()
        let codes: [ExitCode] = [
            ClientExitCode.success, ClientExitCode.rejected, ClientExitCode.refused, ClientExitCode.usage,
            ClientExitCode.badInput, ClientExitCode.noInput, ClientExitCode.unavailable, ClientExitCode.software,
            ClientExitCode.connectionLost, ClientExitCode.protocolViolation,
        ]
        let section = try #require(
            document.components(separatedBy: "## Exit codes").dropFirst().first?
                .components(separatedBy: "\n## ").first
        )
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| code") }
        let documented = rows.compactMap { Int32($0.dropFirst(2).prefix { $0 != " " }) }
        #expect(documented == codes.map(\.rawValue))
        #expect(Set(documented).count == documented.count)
    }
}
