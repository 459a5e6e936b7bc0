import Foundation
import TallyClient
import TallyCore
import TallyWire
import Testing

@testable import tally

extension ProcessTests {
    /// The client commands, run as the built executable against a real `tally serve` on a temporary
    /// data directory: docs/CLI.md's walkthrough line for line, every `--json` object field by field,
    /// JSON Lines from standard input in requests that never split a chain, exact 64- and 128-bit
    /// values, and the exit code of every way a command can end.
    @Suite("tally client commands")
    struct ClientCommandTests {
        // MARK: - The documented walkthrough

        @Test func theWalkthroughOfDocsCLIRunsAsWritten() throws {
            let server = try ClientCommandServer()
            let blocks = MarkdownBlock.parse(try MarkdownBlock.cliDocument())
            for block in blocks where block.info.count >= 2 && block.info[1].hasPrefix("file=") {
                let name = String(block.info[1].dropFirst("file=".count))
                try Data((block.text + "\n").utf8).write(to: URL(fileURLWithPath: server.directory + "/" + name))
            }
            let walkthrough = try #require(blocks.first { $0.info.count >= 2 && $0.info[1] == "walkthrough" })
            var steps: [(command: String, expected: [String], exit: Int32)] = []
            for line in walkthrough.lines {
                if line.hasPrefix("$ tally ") {
                    steps.append((String(line.dropFirst(2)), [], 0))
                } else if line.hasPrefix("[exit "), let code = Int32(line.dropFirst(6).dropLast()) {
                    steps[steps.count - 1].exit = code
                } else {
                    steps[steps.count - 1].expected.append(line)
                }
            }
            #expect(steps.count >= 20)
            for step in steps {
                let run = try server.tally(step.command.split(separator: " ").dropFirst().map(String.init))
                #expect(run.status == step.exit, "\(step.command)\n\(run)")
                #expect(run.lines.count == step.expected.count, "\(step.command)\n\(run)")
                for (line, expected) in zip(run.lines, step.expected) {
                    #expect(
                        Self.matches(line, expected),
                        "\(step.command)\n  got:      \(line)\n  expected: \(expected)"
                    )
                }
            }
        }

        /// `expected` with each `…` standing for any text.
        static func matches(_ line: String, _ expected: String) -> Bool {
            let pieces = expected.components(separatedBy: "…")
            guard pieces.count > 1 else { return line == expected }
            guard line.hasPrefix(pieces[0]), line.hasSuffix(pieces[pieces.count - 1]) else { return false }
            var rest = line.dropFirst(pieces[0].count)
            for piece in pieces.dropFirst().dropLast() {
                guard let range = rest.range(of: piece) else { return false }
                rest = rest[range.upperBound...]
            }
            return rest.count >= pieces[pieces.count - 1].count
        }

        // MARK: - JSON, field by field

        static let keyOne = "00000000000000000000000000000001"

        @Test func everyJSONObjectFieldByField() throws {
            let server = try ClientCommandServer()
            func result(_ arguments: String...) throws -> ClientOutput.Result {
                let run = try server.tally(arguments + ["--json"])
                return try run.json()
            }

            // Setup: an asset, accounts at the edges of the id range, with dimensions and a constraint.
            let asset = try result("assets", "create", "USD", "--scale", "2")
            #expect(asset.index == 0 && asset.line == nil && asset.op == "create_asset" && asset.key == nil)
            #expect(asset.code == "ok" && asset.codeNumber == 0 && asset.detail == 0 && !asset.replay)
            #expect(asset.transactionId == 0 && asset.sequence >= 1 && asset.recordedTime > 1_700_000_000_000_000_000)
            #expect(try result("assets", "create", "BIG", "--scale", "0").code == "ok")
            let max = "18446744073709551615"
            for arguments in [
                ["accounts", "create", max, "--asset", "BIG", "--kind", "psp_receivable", "--partner", max],
                ["accounts", "create", "6", "--asset", "BIG", "--kind", "merchant_payable"],
                ["accounts", "create", "7", "--asset", "USD", "--kind", "merchant_payable", "--merchant", "70"],
                ["accounts", "create", "8", "--asset", "USD", "--kind", "merchant_payable", "--merchant", "80"],
                ["accounts", "create", "9", "--asset", "USD", "--kind", "merchant_payable", "--merchant", "90"],
                [
                    "accounts", "create", "10", "--asset", "USD", "--kind", "custom_1500", "--normal-side", "credit",
                    "--flag",
                    "debits_must_not_exceed_credits",
                ],
            ] {
                let created: ClientOutput.Result = try server.tally(arguments + ["--json"]).json()
                #expect(created.op == "create_account" && created.code == "ok", "\(arguments)")
            }

            // A post of the largest amount there is, from the largest account id.
            let post = try result(
                "post",
                "--type",
                "capture",
                "--debit",
                "\(max):340282366920938463463374607431768211455",
                "--credit",
                "6:340282366920938463463374607431768211455",
                "--key",
                Self.keyOne,
                "--payment-id",
                "pay_1",
                "--effective-time",
                "1700000000000000001"
            )
            #expect(post.op == "post" && post.key == Self.keyOne && post.code == "ok" && post.transactionId == 1)
            #expect(post.sequence > asset.sequence && post.recordedTime >= asset.recordedTime)
            let replayed = try result(
                "post",
                "--type",
                "capture",
                "--debit",
                "\(max):340282366920938463463374607431768211455",
                "--credit",
                "6:340282366920938463463374607431768211455",
                "--key",
                Self.keyOne,
                "--payment-id",
                "pay_1",
                "--effective-time",
                "1700000000000000001"
            )
            #expect(replayed.replay && replayed.transactionId == 1 && replayed.code == "ok")

            let accounts: ClientOutput.Accounts = try server.tally("balance", max, "6", "10", "11", "--json").json()
            #expect(accounts.accounts.map(\.id) == [UInt64.max, 6, 10, 11])
            #expect(accounts.accounts.map(\.found) == [true, true, true, false])
            let big = accounts.accounts[0]
            #expect(big.asset == "BIG" && big.kind == "psp_receivable" && big.normalSide == "debit")
            #expect(big.merchant == 0 && big.partner == UInt64.max && big.flags == [] && big.status == "open")
            #expect(
                big.balance
                    == ClientOutput.Balance(
                        debitsPosted: "340282366920938463463374607431768211455",
                        creditsPosted: "0",
                        debitsPending: "0",
                        creditsPending: "0"
                    )
            )
            #expect(big.posted == "340282366920938463463374607431768211455" && big.available == big.posted)
            #expect(accounts.accounts[1].posted == "340282366920938463463374607431768211455")
            #expect(accounts.accounts[2].kind == "custom_1500" && accounts.accounts[2].normalSide == "credit")
            #expect(accounts.accounts[2].flags == ["debits_must_not_exceed_credits"])
            #expect(accounts.accounts[3].asset == nil && accounts.accounts[3].balance == nil)
            // The asset's volume is full: one more minor unit overflows, and is rejected as such.
            let overflow = try server.tally(
                "post",
                "--type",
                "capture",
                "--debit",
                "\(max):1",
                "--credit",
                "6:1",
                "--json"
            )
            #expect(overflow.status == 1)
            let overflowResult: ClientOutput.Result = try overflow.json()
            #expect(
                overflowResult.code == "amount_overflow" && overflowResult.codeNumber == 54
                    && overflowResult.key?.count == 32
            )

            // Transactions, by id and by key.
            let lookup: ClientOutput.Lookup = try server.tally("lookup", "--id", "1", "--json").json()
            #expect(lookup.id == 1 && lookup.status == "found")
            let transaction = try #require(lookup.transaction)
            #expect(transaction.id == 1 && transaction.op == "post" && transaction.type == "capture")
            #expect(
                transaction.key == Self.keyOne && transaction.paymentId == "pay_1"
                    && transaction.providerReference == ""
            )
            #expect(
                transaction.legs == [
                    ClientOutput.Leg(
                        account: UInt64.max,
                        side: "debit",
                        amount: "340282366920938463463374607431768211455"
                    ),
                    ClientOutput.Leg(account: 6, side: "credit", amount: "340282366920938463463374607431768211455"),
                ]
            )
            #expect(transaction.fxRates.isEmpty && transaction.effectiveTime == 1_700_000_000_000_000_001)
            #expect(transaction.recordedTime == post.recordedTime)
            #expect(transaction.actor == 0 && transaction.reason == 0 && transaction.link == 0)
            #expect(transaction.released == "0" && transaction.deadline == 0 && !transaction.final)
            let missing = try server.tally("lookup", "--id", "99", "--json")
            #expect(missing.status == 1)
            let notFound: ClientOutput.Lookup = try missing.json()
            #expect(notFound.status == "not_found" && notFound.transaction == nil)
            let record: ClientOutput.KeyRecord = try server.tally("lookup", "--key", Self.keyOne, "--json").json()
            #expect(record.key == Self.keyOne && record.found && record.transaction?.id == 1)
            #expect(record.result?.code == "ok" && record.result?.transactionId == 1 && record.result?.replay == false)
            let unknownKey = try server.tally("lookup", "--key", "0000000000000000000000000000abcd", "--json")
            #expect(unknownKey.status == 1)
            #expect(try unknownKey.json(ClientOutput.KeyRecord.self).found == false)

            // A hold's life: placed, increased, captured partly, looked up, captured finally.
            let hold = try result(
                "hold",
                "--debit",
                "7",
                "--credit",
                "9",
                "--amount",
                "500",
                "--timeout-seconds",
                "3600"
            )
            #expect(hold.op == "hold" && hold.code == "ok" && hold.transactionId == 2)
            #expect(try result("increase", "2", "--amount", "100").transactionId == 3)
            #expect(try result("capture", "2", "--amount", "250").transactionId == 4)
            let open: ClientOutput.OpenHold = try server.tally("lookup", "--hold", "2", "--json").json()
            let held = try #require(open.hold)
            #expect(open.found && held.id == 2 && held.debit == 7 && held.credit == 9 && held.type == "capture")
            #expect(held.amount == "600" && held.captured == "250" && held.remaining == "350")
            #expect(held.deadline == hold.recordedTime + 3_600_000_000_000)
            let final = try result("capture", "2", "--amount", "100", "--final")
            #expect(final.code == "ok" && final.transactionId == 5)
            let finalRecord: ClientOutput.Lookup = try server.tally("lookup", "--id", "5", "--json").json()
            #expect(finalRecord.transaction?.link == 2 && finalRecord.transaction?.released == "250")
            #expect(finalRecord.transaction?.final == true && finalRecord.transaction?.op == "capture")
            let closedHold = try server.tally("lookup", "--hold", "2", "--json")
            #expect(closedHold.status == 1)
            #expect(try closedHold.json(ClientOutput.OpenHold.self).found == false)
            let void = try server.tally("void", "2", "--json")
            #expect(void.status == 1)
            #expect(try void.json(ClientOutput.Result.self).code == "hold_already_final")

            // Aggregates: one, and pages per merchant.
            let aggregate: ClientOutput.Aggregate = try server.tally(
                "balance",
                "--aggregate",
                "--kind",
                "merchant_payable",
                "--asset",
                "USD",
                "--merchant",
                "90",
                "--json"
            ).json()
            #expect(aggregate.kind == "merchant_payable" && aggregate.asset == "USD" && aggregate.found)
            #expect(aggregate.dimension == "merchant" && aggregate.value == 90)
            #expect(
                aggregate.balance
                    == ClientOutput.Balance(
                        debitsPosted: "0",
                        creditsPosted: "350",
                        debitsPending: "0",
                        creditsPending: "0"
                    )
            )
            let none = try server.tally(
                "balance",
                "--aggregate",
                "--kind",
                "merchant_payable",
                "--asset",
                "USD",
                "--merchant",
                "91",
                "--json"
            )
            #expect(none.status == 1)
            #expect(try none.json(ClientOutput.Aggregate.self).found == false)
            let page: ClientOutput.Page = try server.tally(
                "balance",
                "--aggregate",
                "--kind",
                "merchant_payable",
                "--asset",
                "USD",
                "--by",
                "merchant",
                "--limit",
                "2",
                "--json"
            ).json()
            #expect(page.grouping == "merchant" && page.start == 0 && page.entries.map(\.value) == [70, 80])
            #expect(page.hasMore && page.nextStart == 81)
            let next: ClientOutput.Page = try server.tally(
                "balance",
                "--aggregate",
                "--kind",
                "merchant_payable",
                "--asset",
                "USD",
                "--by",
                "merchant",
                "--limit",
                "2",
                "--start",
                "81",
                "--json"
            ).json()
            #expect(next.entries.map(\.value) == [90] && !next.hasMore && next.nextStart == nil)
            let all: ClientOutput.Page = try server.tally(
                "balance",
                "--aggregate",
                "--kind",
                "merchant_payable",
                "--asset",
                "USD",
                "--by",
                "merchant",
                "--limit",
                "1",
                "--all",
                "--json"
            ).json()
            #expect(all.entries.map(\.value) == [70, 80, 90] && !all.hasMore)

            // Assets and statistics.
            let assets = try server.tally("assets", "show", "BIG", "EUR", "USD", "--json")
            #expect(assets.status == 1)
            let shown: ClientOutput.Assets = try assets.json()
            #expect(
                shown.assets.map(\.code) == ["BIG", "EUR", "USD"] && shown.assets.map(\.found) == [true, false, true]
            )
            #expect(
                shown.assets[0].scale == 0
                    && shown.assets[0].totals?.debitsPosted == "340282366920938463463374607431768211455"
            )
            #expect(
                shown.assets[2].totals
                    == ClientOutput.Balance(
                        debitsPosted: "350",
                        creditsPosted: "350",
                        debitsPending: "0",
                        creditsPending: "0"
                    )
            )
            let statistics = try server.tally("stats", "--json")
            #expect(statistics.status == 0)
            let values: [String: UInt64] = try statistics.json()
            #expect(values["ledger.accounts"] == 6 && values["ledger.assets"] == 2)
            #expect(values["ledger.transactions"] == 5)

            // Status changes: freeze, a refused movement, reopen, close only when settled.
            #expect(try result("accounts", "freeze", "10", "--actor", "3", "--reason", "4").code == "ok")
            let frozen = try server.tally("accounts", "show", "10", "--json")
            #expect(try frozen.json(ClientOutput.Accounts.self).accounts[0].status == "frozen")
            #expect(try result("accounts", "reopen", "10").code == "ok")
            #expect(try result("accounts", "close", "10").code == "ok")
            let notEmpty = try server.tally("accounts", "close", "9", "--json")
            #expect(notEmpty.status == 1)
            #expect(try notEmpty.json(ClientOutput.Result.self).code == "account_not_empty")
        }

        // MARK: - JSON Lines from standard input

        @Test func jsonLinesFromStandardInputInRequestsThatNeverSplitAChain() throws {
            let server = try ClientCommandServer()
            var lines = [
                #"{"op":"create_asset","code":"EUR","scale":2}"#,
                #"{"op":"create_account","id":1,"asset":"EUR","kind":"psp_receivable"}"#,
                "",
                #"{"op":"create_account","id":2,"asset":"EUR","kind":"merchant_payable"}"#,
            ]
            // 2,400 posts; every 7th starts a chain of three, so that chains straddle the boundaries
            // of requests of 1,000 operations.
            var chainStarts: [Int] = []
            var index = 3
            var key: UInt64 = 1
            while index < 2_403 {
                let chain = index % 7 == 0 ? 3 : 1
                if chain > 1 { chainStarts.append(index) }
                for member in 0..<chain {
                    let hex = String(key, radix: 16)
                    lines.append(
                        #"{"op":"post","key":"\#(String(repeating: "0", count: 32 - hex.count) + hex)","type":"capture","legs":[{"account":1,"side":"debit","amount":"\#(key)"},{"account":2,"side":"credit","amount":\#(key)}],"linked":\#(member < chain - 1)}"#
                    )
                    key += 1
                }
                index += chain
            }
            let operations = lines.filter { !$0.isEmpty }.count
            let run = try server.tally("post", "--file", "-", "--json", input: lines.joined(separator: "\r\n") + "\n")
            #expect(run.status == 0, "\(run.errors)")
            let results: [ClientOutput.Result] = try run.jsonLines()
            #expect(results.count == operations)
            #expect(results.map(\.index) == Array(0..<operations))
            #expect(results.map(\.line) == (1...lines.count).filter { !lines[$0 - 1].isEmpty })
            #expect(results.allSatisfy { $0.code == "ok" && !$0.replay })
            #expect(results.dropFirst(3).map(\.transactionId) == (1...UInt64(operations - 3)).map { $0 })
            // Requests: at most 1,000 operations each, in order, a chain always within one.
            var sizes: [UInt64: Int] = [:]
            for result in results {
                sizes[result.sequence, default: 0] += 1
            }
            #expect(sizes.values.allSatisfy { $0 <= 1_000 } && sizes.count >= 3)
            #expect(zip(results, results.dropFirst()).allSatisfy { $0.sequence <= $1.sequence })
            for start in chainStarts {
                #expect(results[start].sequence == results[start + 2].sequence, "the chain at operation \(start)")
            }

            // Again, for people: every result a replay, then the summary.
            let again = try server.tally(
                "post",
                "--file",
                "-",
                "--batch-size",
                "700",
                input: lines.joined(separator: "\n")
            )
            #expect(again.status == 0)
            #expect(again.lines.count == operations + 1)
            #expect(again.lines[0] == "line 1  create_asset  ok  (replay)")
            #expect(again.lines[3] == "line 5  post  ok  transaction 1  (replay)")
            #expect(again.lines.last?.hasPrefix("\(operations) operations in ") == true)
            #expect(
                again.lines.last?.hasSuffix(
                    ": \(operations) ok, 0 rejected (\(operations) of them replays of earlier results)"
                ) == true
            )
        }

        @Test func aBadLineAnywhereMeansNothingIsSent() throws {
            let server = try ClientCommandServer()
            let input = """
                {"op":"create_asset","code":"EUR","scale":2}
                {"op":"create_account","id":1,"asset":"EUR","kind":"psp_receivable"}
                {"op":"create_account","id":2,"asset":"EUR","kind":"merchant_payble"}
                {"op":"post","key":"00000000000000000000000000000001","type":"capture","legs":[{"account":1,"side":"debit","amount":"1.5"}]}
                """
            let run = try server.tally("post", "--file", "-", "--json", input: input)
            #expect(run.status == 65)
            let failure: ClientOutput.Failure = try run.json()
            #expect(
                failure.error.kind == "bad_input" && failure.error.exitCode == 65 && failure.error.problemCount == 2
            )
            #expect(failure.error.problems?.map(\.line) == [3, 4])
            #expect(failure.error.problems?.map(\.path) == ["kind", "legs[0].amount"])
            #expect(run.errors.contains("tally: the input has 2 bad lines; nothing was sent"))
            #expect(run.errors.contains("  line 4: legs[0].amount: expected an amount in minor units"))
            // Nothing reached the ledger, not even the good lines before the bad ones.
            let values: [String: UInt64] = try server.tally("stats", "--json").json()
            #expect(values["ledger.assets"] == 0 && values["ledger.accounts"] == 0)
            // accounts create --file takes asset and account lines only.
            let wrongKind = try server.tally(
                "accounts",
                "create",
                "--file",
                "-",
                input: #"{"op":"post","key":"00000000000000000000000000000001","type":"capture","legs":[]}"#
            )
            #expect(wrongKind.status == 65)
            #expect(
                wrongKind.errors.contains(
                    "line 1: op: `tally accounts create --file` takes only create_account, create_asset"
                )
            )
            let good = try server.tally(
                "accounts",
                "create",
                "--file",
                "-",
                input: input.components(separatedBy: "\n").prefix(2).joined(separator: "\n")
            )
            #expect(
                good.status == 0
                    && good.lines == [
                        "line 1  create_asset  ok", "line 2  create_account  ok",
                        "2 operations in 1 request: 2 ok, 0 rejected",
                    ]
            )
        }

        @Test func checkReadsAndPrintsTheInputWithoutAServer() throws {
            let operations = OperationJSONTests.everyKind
            let input = operations.map { OperationJSON.encode($0).serialized() }.joined(separator: "\n") + "\n"
            // everyKind ends with an unlinked operation, so the input is whole.
            let run = try ClientCommand.run(
                ["post", "--file", "-", "--check", "--json", "--socket", "/nonexistent.sock"],
                input: input
            )
            #expect(run.status == 0, "\(run)")
            #expect(run.output == input)
            let human = try ClientCommand.run(["post", "--file", "-", "--check", "--batch-size", "5"], input: input)
            #expect(human.lines == ["\(operations.count) operations read, in 3 requests of at most 5: nothing sent"])
            let bad = try ClientCommand.run(
                ["post", "--file", "-", "--check"],
                input: "{\"op\":\"expire_hold\",\"hold\":1}\n"
            )
            #expect(bad.status == 65 && bad.output.isEmpty)
            #expect(bad.errors.contains("line 1: op: expire_hold is issued by the engine"))
        }

        // MARK: - Exit codes

        @Test func noServerIsExit69WithAClearMessage() throws {
            let socket = "/tmp/tally-no-server-\(getpid()).sock"
            let run = try ClientCommand.run(["balance", "1", "--socket", socket])
            #expect(run.status == 69 && run.output.isEmpty)
            #expect(
                run.errors.hasPrefix("tally: no Tally server at \(socket): is `tally serve` running?"),
                "\(run.errors)"
            )
            let json = try ClientCommand.run([
                "post", "--type", "fee", "--debit", "1:1", "--credit", "2:1", "--socket", socket, "--json",
            ])
            #expect(json.status == 69)
            let failure: ClientOutput.Failure = try json.json()
            #expect(failure.error.kind == "unavailable" && failure.error.exitCode == 69 && failure.error.status == nil)
            // Bad input is found before connecting: 65, not 69.
            let bad = try ClientCommand.run(["post", "--file", "-", "--socket", socket], input: "{}")
            #expect(bad.status == 65)
            let unreadable = try ClientCommand.run(["post", "--file", "/nonexistent/ops.jsonl", "--socket", socket])
            #expect(unreadable.status == 66)
            #expect(
                unreadable.errors
                    == "tally: cannot read /nonexistent/ops.jsonl: No such file or directory; nothing was sent\n"
            )
        }

        @Test func aRefusedWriteIsExit2() throws {
            let server = try ClientCommandServer(readOnlySocket: true)
            let readOnly = try #require(server.server.readOnlySocketPath)
            let run = try server.tally("assets", "create", "USD", "--scale", "2", "--socket", readOnly, "--json")
            #expect(run.status == 2, "\(run)")
            let failure: ClientOutput.Failure = try run.json()
            #expect(
                failure.error.kind == "refused" && failure.error.status == "read_only" && failure.error.exitCode == 2
            )
            // A file's first request is refused: nothing after it is sent, and the message says so.
            let file = try server.tally(
                "post",
                "--file",
                "-",
                "--batch-size",
                "1",
                "--socket",
                readOnly,
                input:
                    "{\"op\":\"create_asset\",\"code\":\"USD\",\"scale\":2}\n{\"op\":\"create_asset\",\"code\":\"EUR\",\"scale\":2}\n"
            )
            #expect(file.status == 2 && file.output.isEmpty)
            #expect(file.errors.contains("the request of lines 1-1 failed: "), "\(file.errors)")
            #expect(
                file.errors.contains("0 operations before it were submitted (results above); 1 after it was not sent")
            )
            // Reads are served there.
            let read = try server.tally("balance", "1", "--socket", readOnly)
            #expect(read.status == 1 && read.lines == ["account 1: not found"])
        }

        @Test func everyClientErrorHasItsExitCode() {
            let cases: [(TallyClientError, connecting: Bool, exit: Int32, kind: String)] = [
                (
                    TallyClientError(.connectFailed, "cannot connect to x.sock: no such file; is the server running?"),
                    true, 69, "unavailable"
                ),
                (TallyClientError(.timeout, "no handshake within 5 s"), true, 69, "unavailable"),
                (TallyClientError(.timeout, "no reply within 30 s"), false, 75, "connection_lost"),
                (TallyClientError(.connectionClosed, "the server closed the connection"), false, 75, "connection_lost"),
                (TallyClientError(.server, "the server answered busy", status: .busy), false, 2, "refused"),
                (
                    TallyClientError(.server, "the server answered shutting_down", status: .shuttingDown), false, 2,
                    "refused"
                ),
                (TallyClientError(.protocolViolation, "a reply to no request"), false, 76, "protocol_violation"),
                (TallyClientError(.requestTooLarge, "a batch of 20000 operations"), false, 70, "internal"),
                (TallyClientError(.invalidArgument, "a page limit of 0"), false, 70, "internal"),
            ]
            for (error, connecting, exit, kind) in cases {
                let failure = ClientFailure.client(error, socket: "x.sock", connecting: connecting)
                #expect(failure.exit.rawValue == exit && failure.kind == kind, "\(error)")
                #expect(failure.status == (error.code == .server ? error.status : nil))
            }
            let unavailable = ClientFailure.client(cases[0].0, socket: "x.sock", connecting: true)
            #expect(
                unavailable.message
                    == "no Tally server at x.sock: is `tally serve` running? (cannot connect to x.sock: no such file)"
            )
            #expect(
                ClientFailure.client(cases[3].0, socket: "x.sock", connecting: false).message.contains(
                    "resend them with the same keys"
                )
            )
        }

        @Test func usageErrorsAreExit64() throws {
            let cases: [([String], String)] = [
                (["post", "--debit", "1:1", "--credit", "2:1"], "Missing --type"),
                (["post", "--type", "capture", "--debit", "1:12.50"], "amounts are whole numbers: no fraction"),
                (["post", "--type", "capture", "--debit", "1"], "expected ACCOUNT:AMOUNT"),
                (["post", "--type", "capture", "--debit", "x:1"], "account: expected an integer"),
                (["post", "--file", "-", "--key", Self.keyOne], "--file takes every field from its lines"),
                (["post", "--type", "purchase", "--debit", "1:1"], "expected a transaction type"),
                (["hold", "--debit", "1", "--credit", "2", "--amount=-1"], "amounts are never negative"),
                (["capture", "1", "--amount", "1", "--key", "xyz"], "expected an idempotency key"),
                (["reverse", "1"], "Missing --type"),
                (["balance"], "Give account ids"),
                (["balance", "--aggregate", "--kind", "float"], "--aggregate needs --kind and --asset"),
                (["lookup", "--id", "1", "--key", Self.keyOne], "exactly one of --id, --key and --hold"),
                (["accounts", "create", "1", "--asset", "usd", "--kind", "float"], "codes are upper case"),
                (["stats", "--timeout", "0"], "--timeout must be more than 0"),
            ]
            for (arguments, message) in cases {
                let run = try ClientCommand.run(arguments + ["--socket", "/nonexistent.sock"])
                #expect(run.status == 64, "\(run)")
                #expect(run.errors.contains(message), "\(arguments): \(run.errors)")
            }
        }
    }
}
