import Foundation
import TallyCore
import Testing

/// The documentation that code generates must stay equal to what is checked in.
struct DocumentationTests {
    private static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func resultCodesDocumentMatchesTheCode() throws {
        let file = Self.repository.appendingPathComponent("docs/RESULT_CODES.md")
        let checkedIn = try String(contentsOf: file, encoding: .utf8)
        #expect(
            checkedIn == ResultCode.documentation,
            "docs/RESULT_CODES.md is stale: regenerate it with `swift run tally codes --markdown > docs/RESULT_CODES.md`"
        )
    }

    @Test func everyResultCodeHasAUniqueNumberAndName() {
        let numbers = ResultCode.all.map(\.code.rawValue)
        let names = ResultCode.all.map(\.name)
        #expect(Set(numbers).count == numbers.count)
        #expect(Set(names).count == names.count)
        #expect(numbers == numbers.sorted())
        for info in ResultCode.all {
            #expect(ResultCode(name: info.name) == info.code)
            #expect(info.code.name == info.name)
            #expect(!info.meaning.isEmpty && !info.clientAction.isEmpty)
        }
    }

    @Test func everyDocumentedCodeIsInTheLedgerSemantics() throws {
        let file = Self.repository.appendingPathComponent("docs/LEDGER.md")
        let semantics = try String(contentsOf: file, encoding: .utf8)
        for info in ResultCode.all where info.code != .ok {
            #expect(semantics.contains("`\(info.name)`"), "docs/LEDGER.md never mentions \(info.name)")
        }
    }
}
