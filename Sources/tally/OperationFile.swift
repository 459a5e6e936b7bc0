import ArgumentParser
import Foundation
import TallyClient
import TallyCore
import TallyWire

/// `--file` of `tally post` and `tally accounts create`: JSON Lines of operations, read and checked
/// whole before anything is sent, then submitted in requests of at most `--batch-size` operations
/// that never split an atomic chain, with one result printed per operation, in order.
struct OperationFile: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read operations from this JSON Lines file ('-' for standard input), one per line (docs/CLI.md).",
            valueName: "path"
        )
    )
    var file: String?

    @Option(
        name: .long,
        help: "Operations per request with --file (an atomic chain is never split: a longer one goes alone)."
    )
    var batchSize = 1_000

    @Flag(
        name: .long,
        help: "With --file: check the input and send nothing (with --json, print it back in canonical form)."
    )
    var check = false

    func validate() throws {
        guard (1...Limits.operationsPerBatchMax).contains(self.batchSize) else {
            throw ValidationError("--batch-size must be between 1 and \(Limits.operationsPerBatchMax).")
        }
        if self.check && self.file == nil {
            throw ValidationError("--check checks a --file.")
        }
    }

    /// Reads the whole input; a file that cannot be read or a bad line stops the command.
    func read(kinds allowed: Set<OperationKind>? = nil, command: String) throws(ClientFailure) -> OperationInput {
        let path = self.file ?? "-"
        let name = path == "-" ? "standard input" : path
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw ClientFailure.noInput(name, String(cString: strerror(errno))) }
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        }
        var input: OperationInput
        do {
            input = try OperationInput.read(handle)
        } catch {
            throw ClientFailure.noInput(name, Self.reason(error))
        }
        if let allowed {
            var kept = OperationInput()
            kept.problems = input.problems
            kept.problemCount = input.problemCount
            for index in 0..<input.count {
                let operation = input.batch.operation(at: index)
                guard allowed.contains(operation.kind) else {
                    kept.report(
                        InputProblem(
                            line: input.lines[index],
                            path: "op",
                            message:
                                "`tally \(command) --file` takes only "
                                + allowed.map { OperationJSON.name(of: $0) }.sorted().joined(separator: ", ")
                                + "; `tally post --file` takes every operation"
                        )
                    )
                    continue
                }
                kept.batch.append(operation, linked: input.batch.isLinked(at: index))
                kept.lines.append(input.lines[index])
            }
            kept.problems.sort { $0.line < $1.line }
            input = kept
        }
        guard input.problemCount == 0 else { throw ClientFailure.badInput(input) }
        return input
    }

    /// An I/O error as the system's words for it ("Is a directory").
    private static func reason(_ error: any Error) -> String {
        var error = error as NSError
        if error.domain != NSPOSIXErrorDomain, let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError {
            error = underlying
        }
        return error.domain == NSPOSIXErrorDomain
            ? String(cString: strerror(Int32(error.code))) : error.localizedDescription
    }

    /// Runs the whole `--file` submission (or `--check`).
    func run(
        options: ClientOptions,
        acknowledgement: Acknowledgement,
        kinds: Set<OperationKind>? = nil,
        command: String
    ) async throws {
        let input: OperationInput
        do {
            input = try self.read(kinds: kinds, command: command)
        } catch {
            try ClientSession.fail(error, options)
        }
        if self.check {
            try self.check(input, options: options)
        }
        try await ClientSession.run(options) { client in
            let limits = client.server.limits
            let plan = input.plan(
                batchSize: min(self.batchSize, limits.operationsPerRequestMax),
                operationsMax: limits.operationsPerRequestMax,
                bytesMax: limits.frameBytesMax - WireProtocol.headerBytes
            )
            guard case .success(let ranges) = plan else {
                if case .failure(let problem) = plan { throw ClientFailure.badInput(problem) }
                preconditionFailure()
            }
            var submitter = OperationSubmitter(client: client, acknowledgement: acknowledgement, options: options)
            try await submitter.submit(input, plan: ranges)
            if !options.json {
                print(submitter.summary.human)
            }
            return submitter.summary.exit
        }
    }

    /// `--check`: plans the requests against the protocol's own limits, sends nothing.
    private func check(_ input: OperationInput, options: ClientOptions) throws -> Never {
        let limits = ConnectionLimits.defaults
        let plan = input.plan(
            batchSize: self.batchSize,
            operationsMax: limits.operationsPerRequestMax,
            bytesMax: limits.frameBytesMax - WireProtocol.headerBytes
        )
        switch plan {
        case .failure(let problem):
            try ClientSession.fail(ClientFailure.badInput(problem), options)
        case .success(let ranges):
            if options.json {
                for index in 0..<input.count {
                    let linked = LinkedOperation(
                        input.batch.operation(at: index),
                        linked: input.batch.isLinked(at: index)
                    )
                    print(OperationJSON.encode(linked).serialized())
                }
            } else {
                print(
                    "\(input.count) operation\(input.count == 1 ? "" : "s") read, in \(ranges.count) request\(ranges.count == 1 ? "" : "s") of at most \(self.batchSize): nothing sent"
                )
            }
            throw ClientExitCode.success
        }
    }
}
