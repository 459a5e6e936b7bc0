import Testing

@testable import TallyCore

/// The ledger rules of docs/LEDGER.md as a table of scenarios (STYLE.md, principle 12). The rows
/// live in Scenarios/, one file per area; each row is run by ``Scenario/run()``, which checks the
/// exact results, the exact state afterwards (or that nothing changed), the transaction ids, the
/// keys remembered and the invariants.
enum ScenarioTable {
    static let all: [Scenario] =
        assets + accounts + statuses + headers + posts + volumes + holds + captures + increases + voids + expiries
        + reversals + idempotency + chains
}

@Suite("Scenario table")
struct ScenarioTests {
    @Test(arguments: ScenarioTable.all)
    func scenario(_ scenario: Scenario) {
        scenario.run()
    }

    /// A new result code without a scenario fails here.
    @Test func everyResultCodeHasAScenario() {
        let covered = ScenarioTable.all.reduce(into: Set<UInt16>()) { $0.formUnion($1.codes) }
        let missing = ResultCode.all.filter { !covered.contains($0.code.rawValue) }.map(\.name)
        #expect(missing == [])
        let unknown = covered.subtracting(ResultCode.all.map(\.code.rawValue))
        #expect(unknown == [])
    }

    /// Every detail value docs/LEDGER.md defines for a code appears in at least one expected result.
    @Test func everyDocumentedDetailHasAScenario() {
        let required: [ResultCode: Set<UInt16>] = [
            .accountUnknown: [0, 1, 2],
            .accountFrozen: [0, 1],
            .accountClosed: [0, 1],
            .amountZero: [0, 1],
            .amountOverflow: [0, 1, 2],
            .unbalanced: [0, 1, 2],
            .accountsMustBeDistinct: [1, 2],
            .assetMismatch: [1],
            .externalReferenceTooLong: [0, 1],
            .fxRateInvalid: [0, 1, 15],
            .exceedsCredits: [0, 1],
            .exceedsDebits: [0, 1],
        ]
        var seen: [ResultCode: Set<UInt16>] = [:]
        for scenario in ScenarioTable.all {
            for result in scenario.expected {
                seen[result.code, default: []].insert(result.detail)
            }
        }
        for (code, details) in required {
            #expect(details.subtracting(seen[code] ?? []) == [], "\(code) details without a scenario")
        }
    }

    @Test func scenarioNamesAreUnique() {
        let names = ScenarioTable.all.map(\.name)
        let duplicates = Dictionary(grouping: names, by: { $0 }).filter { $1.count > 1 }.keys.sorted()
        #expect(duplicates == [])
        #expect(ScenarioTable.all.count >= 100)
    }
}
