import TallyClient
import TallyCore
import TallyWire

extension TallyClient.Configuration {
    /// Short enough that a broken client fails a test rather than stalling the suite.
    static let testing = TallyClient.Configuration(
        clientName: "client-tests",
        connectTimeout: .seconds(5),
        requestTimeout: .seconds(10)
    )
}

/// Starts a fake server, connects a client to it, takes the server's side of the connection, runs
/// `body`, then closes both.
func withConnectedClient(
    _ options: FakeServer.Options = FakeServer.Options(),
    configuration: TallyClient.Configuration = .testing,
    _ body: (FakeServer, FakeConnection, TallyClient) async throws -> Void
) async throws {
    let server = try await FakeServer.start(options)
    do {
        let client = try await TallyClient.connect(socketPath: server.socketPath, configuration: configuration)
        do {
            let connection = try await server.nextConnection()
            try await body(server, connection, client)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

/// The outcome of a client call, error included, as a value (for tasks and expectations). The
/// client's methods throw only ``TallyClientError`` (typed throws; a closure's thrown type is not
/// inferred, hence the cast).
func outcome<Value>(_ body: () async throws -> Value) async -> Result<Value, TallyClientError> {
    do {
        return .success(try await body())
    } catch let error as TallyClientError {
        return .failure(error)
    } catch {
        preconditionFailure("a client call threw \(error), not a TallyClientError")
    }
}

extension Result {
    /// The error, nil on success.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}

/// Opens account `id` (USD, merchant payable): a small operation whose id tells callers apart.
func createAccount(_ id: UInt64) -> Operation {
    .createAccount(CreateAccount(id: AccountID(rawValue: id), asset: "USD", kind: .merchantPayable))
}

/// A post with `legs` legs and references of `referenceBytes` bytes each (not balanced: only the
/// size matters to these tests).
func post(key: UInt64, legs: Int = 2, referenceBytes: Int = 0) -> Operation {
    let reference = ExternalReference(bytes: Array(repeating: UInt8(ascii: "a"), count: referenceBytes))
    return .post(
        TransactionHeader(key: IdempotencyKey(UInt128(key)), type: .capture),
        legs: (0..<legs).map { index in
            Leg(account: AccountID(rawValue: UInt64(index + 1)), side: index % 2 == 0 ? .debit : .credit, amount: 100)
        },
        references: ExternalReferences(paymentID: reference, providerReference: reference)
    )
}

/// The operations of a submit request.
func operations(of request: RequestFrame) -> [Operation] {
    guard case .submitBatch(let submit) = request.request else { return [] }
    return submit.batch.operations
}

/// The balance the fake server reports for account `id`: tells replies apart.
func balance(for id: AccountID) -> Balance {
    Balance(debitsPosted: UInt128(id.rawValue) * 100, creditsPosted: UInt128(id.rawValue))
}
