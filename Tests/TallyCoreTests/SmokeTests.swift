import TallyCore
import Testing

@Test func capturePostsAndReplays() {
    var ledger = Ledger()
    var batch = OperationBatch()
    batch.append(.createAsset(CreateAsset(code: "USD", scale: 2)))
    batch.append(.createAccount(CreateAccount(id: 1, asset: "USD", kind: .pspReceivable)))
    batch.append(.createAccount(CreateAccount(id: 2, asset: "USD", kind: .merchantPayable)))
    batch.append(.post(TransactionHeader(key: 1, type: .capture), legs: [.debit(1, 100), .credit(2, 100)]))
    batch.append(.post(TransactionHeader(key: 1, type: .capture), legs: [.debit(1, 100), .credit(2, 100)]))
    let results = ledger.apply(batch, at: Timestamp(secondsSinceEpoch: 1))
    #expect(results[3] == .ok(1))
    #expect(results[4] == OperationResult(code: .ok, transactionID: 1, isReplay: true))
    #expect(ledger.balance(of: 2)?.creditsPosted == 100)
    #expect(ledger.checkInvariants().isEmpty)
}
