import ArgumentParser
import TallyClient
import TallyCore
import TallyWire

/// Submits operations request by request, in order, and prints one result per operation as each
/// reply arrives: a JSON object per line with `--json`, a short line otherwise.
///
/// A `busy` reply (nothing was done) is retried after a pause, up to ``busyAttemptsMax`` attempts
/// in all; every other failure stops the submission: what was submitted before it stands (its
/// results are printed), and nothing after it is sent.
struct OperationSubmitter {
    let client: TallyClient
    let acknowledgement: Acknowledgement
    let json: Bool
    let socket: String

    /// Attempts of one request the server keeps answering `busy`, the first included.
    static let busyAttemptsMax = 10
    /// The pause after the first `busy`; it doubles after each, up to ``busyPauseMax``.
    static let busyPauseFirst = Duration.milliseconds(10)
    static let busyPauseMax = Duration.seconds(1)

    struct Summary {
        var operations = 0
        var requests = 0
        var ok = 0
        var replays = 0
        var rejected = 0

        var exit: ExitCode { self.rejected > 0 ? ClientExitCode.rejected : ClientExitCode.success }

        var human: String {
            "\(self.operations) operation\(self.operations == 1 ? "" : "s") in \(self.requests) request\(self.requests == 1 ? "" : "s"): \(self.ok) ok, \(self.rejected) rejected"
                + (self.replays > 0 ? " (\(self.replays) of them replays of earlier results)" : "")
        }
    }

    private(set) var summary = Summary()

    init(client: TallyClient, acknowledgement: Acknowledgement, options: ClientOptions) {
        self.client = client
        self.acknowledgement = acknowledgement
        self.json = options.json
        self.socket = options.socket
    }

    /// Submits every request of `plan` (ranges of `input`), in order.
    mutating func submit(_ input: OperationInput, plan: [Range<Int>]) async throws(ClientFailure) {
        for range in plan {
            do {
                try await self.submit(input.batch(range), firstIndex: range.lowerBound, lines: input.lines[range])
            } catch {
                var failure = error
                let before = range.lowerBound
                let after = input.count - range.upperBound
                failure.message =
                    "the request of lines \(input.lines[range.lowerBound])-\(input.lines[range.upperBound - 1]) failed: \(failure.message). "
                    + "\(before) operation\(before == 1 ? "" : "s") before it \(before == 1 ? "was" : "were") submitted (results above); "
                    + "\(after) after it \(after == 1 ? "was" : "were") not sent"
                throw failure
            }
        }
    }

    /// Submits one request and prints its results.
    @discardableResult
    mutating func submit(
        _ batch: OperationBatch,
        firstIndex: Int = 0,
        lines: ArraySlice<Int>? = nil
    ) async throws(ClientFailure) -> [SubmittedResult] {
        let reply = try await self.send(batch)
        self.summary.requests += 1
        var results: [SubmittedResult] = []
        results.reserveCapacity(batch.count)
        for (offset, result) in reply.results.enumerated() {
            let submitted = SubmittedResult(
                index: firstIndex + offset,
                line: lines.map { $0[$0.startIndex + offset] },
                operation: batch.operation(at: offset),
                result: result,
                sequence: reply.sequence,
                recordedTime: reply.recordedTime
            )
            self.summary.operations += 1
            if result.code.isOK {
                self.summary.ok += 1
            } else {
                self.summary.rejected += 1
            }
            if result.isReplay {
                self.summary.replays += 1
            }
            print(self.json ? submitted.json.serialized() : submitted.human)
            results.append(submitted)
        }
        return results
    }

    private func send(_ batch: OperationBatch) async throws(ClientFailure) -> SubmitBatchReply {
        var pause = Self.busyPauseFirst
        var attempt = 1
        while true {
            do {
                return try await self.client.submit(batch, acknowledgement: self.acknowledgement)
            } catch {
                guard error.code == .server, error.status == .busy, attempt < Self.busyAttemptsMax else {
                    var failure = ClientFailure.client(error, socket: self.socket, connecting: false)
                    if error.status == .busy {
                        failure.message += " (after \(attempt) attempts)"
                    }
                    throw failure
                }
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, Self.busyPauseMax)
            attempt += 1
        }
    }
}
