import ArgumentParser
import TallyCore
import TallyWire

/// The commands that send one operation from flags: one request, one result printed (a JSON
/// object with `--json`), exit status 0 when applied and 1 when rejected.
enum SingleOperation {
    static func run(_ operation: Operation, options: ClientOptions, acknowledgement: Acknowledgement) async throws {
        guard OperationBatch(CollectionOfOne(operation)).isWithinEncodingLimits else {
            throw ValidationError(
                "More than \(OperationBatch.EncodingLimits.legsPerPostMax) legs or \(OperationBatch.EncodingLimits.fxRatesPerPostMax) FX rates: a request cannot carry them."
            )
        }
        try await ClientSession.run(options) { client in
            var submitter = OperationSubmitter(client: client, acknowledgement: acknowledgement, options: options)
            try await submitter.submit(OperationBatch(CollectionOfOne(operation)))
            return submitter.summary.exit
        }
    }
}
