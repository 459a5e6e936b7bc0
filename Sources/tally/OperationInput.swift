import Foundation
import TallyCore

/// One thing wrong with operation input: the line (1-based), the column (1-based byte) of a
/// syntax error or the path of a field (`legs[1].amount`), and what was expected.
struct InputProblem: Error, Hashable, Sendable, CustomStringConvertible {
    var line: Int
    var column: Int?
    var path: String?
    var message: String

    var description: String {
        var text = "line \(self.line)"
        if let column = self.column { text += ", column \(column)" }
        if let path = self.path, !path.isEmpty { text += ": \(path)" }
        return text + ": " + self.message
    }

    var json: JSONValue {
        .object([
            .init("line", .integer(self.line)),
            .init("column", self.column.map { .integer($0) } ?? .null),
            .init("path", self.path.map { .string($0) } ?? .null),
            .init("message", .string(self.message)),
        ])
    }
}

/// Operations read from JSON Lines (docs/CLI.md): every line is read and checked before anything is
/// sent, so a bad line anywhere means nothing is sent at all.
struct OperationInput: Sendable {
    /// Every operation, in input order, with its linked flag.
    var batch = OperationBatch()
    /// The input line of each operation.
    var lines: [Int] = []
    /// Problems found, in line order: at most ``problemsKept``.
    var problems: [InputProblem] = []
    /// Every problem found, including those not kept.
    var problemCount = 0

    /// Problems beyond this many are counted, not kept: the first ones are what a person fixes first.
    static let problemsKept = 100
    /// The longest line: far beyond the largest operation a request can carry, and a bound on what a
    /// line without a newline can make the reader hold.
    static let lineBytesMax = 1 << 20

    var count: Int { self.batch.count }

    mutating func report(_ problem: InputProblem) {
        self.problemCount += 1
        if self.problems.count < Self.problemsKept {
            self.problems.append(problem)
        }
    }

    /// The end of a line that continues in the next piece of input.
    private var pending: [UInt8] = []
    /// Whether the pending line is already longer than ``lineBytesMax`` (its bytes are dropped).
    private var pendingTooLong = false
    /// Lines seen so far.
    private var lineNumber = 0

    /// Reads every line of `handle` to its end.
    static func read(_ handle: FileHandle) throws -> OperationInput {
        var input = OperationInput()
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            input.consume(chunk)
        }
        input.finish()
        return input
    }

    /// Reads every line of `text` (for tests and examples).
    static func read(_ text: String) -> OperationInput {
        var input = OperationInput()
        input.consume(Data(text.utf8))
        input.finish()
        return input
    }

    /// Takes the lines of a piece of the input: lines end at `\n` (a `\r` before it is dropped), and
    /// the last one may continue in the next piece.
    mutating func consume(_ data: Data) {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var start = 0
            while start < buffer.count {
                let rest = UnsafeRawBufferPointer(rebasing: buffer[start...])
                guard let found = memchr(rest.baseAddress!, 0x0A, rest.count) else {
                    self.appendPending(rest)
                    return
                }
                let end = start + (UnsafeRawPointer(found) - rest.baseAddress!)
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                if self.pending.isEmpty && !self.pendingTooLong {
                    self.lineNumber += 1
                    self.add(line: line.count > OperationInput.lineBytesMax ? nil : Self.droppingReturn(line))
                } else {
                    self.appendPending(line)
                    self.endPending()
                }
                start = end + 1
            }
        }
    }

    /// Ends the input: takes a last line without a newline, then checks the chains.
    mutating func finish() {
        if !self.pending.isEmpty || self.pendingTooLong {
            self.endPending()
        }
        self.checkChains()
    }

    private mutating func appendPending(_ bytes: UnsafeRawBufferPointer) {
        guard !self.pendingTooLong else { return }
        guard self.pending.count + bytes.count <= OperationInput.lineBytesMax else {
            self.pendingTooLong = true
            self.pending = []
            return
        }
        self.pending.append(contentsOf: bytes)
    }

    private mutating func endPending() {
        self.lineNumber += 1
        if self.pendingTooLong {
            self.add(line: nil)
        } else {
            let pending = self.pending
            pending.withUnsafeBytes { self.add(line: Self.droppingReturn($0)) }
        }
        self.pending.removeAll(keepingCapacity: true)
        self.pendingTooLong = false
    }

    private static func droppingReturn(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        line.last == 0x0D ? UnsafeRawBufferPointer(rebasing: line.dropLast()) : line
    }

    /// Parses the line ``lineNumber``, nil when it is too long; blank lines are skipped.
    private mutating func add(line bytes: UnsafeRawBufferPointer?) {
        let number = self.lineNumber
        guard let bytes else {
            self.report(
                InputProblem(line: number, message: "the line is longer than the limit of \(Self.lineBytesMax) bytes")
            )
            return
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            return
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            self.report(InputProblem(line: number, column: error.offset + 1, message: error.message))
            return
        }
        do {
            let linked = try OperationJSON.decode(value)
            self.batch.append(linked.operation, linked: linked.isLinked)
            self.lines.append(number)
        } catch {
            self.report(InputProblem(line: number, path: error.path, message: error.message))
        }
    }

    /// An input whose last operation is linked ends inside an atomic chain: the ledger would reject
    /// the whole chain with `linked_chain_open`, so the input is refused before anything is sent.
    private mutating func checkChains() {
        guard self.count > 0, self.batch.isLinked(at: self.count - 1) else { return }
        var start = self.count - 1
        while start > 0 && self.batch.isLinked(at: start - 1) {
            start -= 1
        }
        self.report(
            InputProblem(
                line: self.lines[self.count - 1],
                path: "linked",
                message:
                    "the input ends inside the atomic chain that starts at line \(self.lines[start]): the last operation of a chain must not be linked"
            )
        )
    }

    /// The operations `range` as a batch of their own, links kept.
    func batch(_ range: Range<Int>) -> OperationBatch {
        var batch = OperationBatch()
        for index in range {
            batch.append(self.batch.operation(at: index), linked: self.batch.isLinked(at: index))
        }
        return batch
    }

    /// Splits the operations into requests of at most `batchSize` operations (and at most
    /// `operationsMax` and `bytesMax` encoded bytes), never splitting an atomic chain: a chain longer
    /// than `batchSize` goes alone in a request of its own. A chain beyond `operationsMax` or
    /// `bytesMax` cannot be sent at all: the problem names it.
    func plan(batchSize: Int, operationsMax: Int, bytesMax: Int) -> Result<[Range<Int>], InputProblem> {
        let overhead = OperationBatch().encodedByteCount
        var ranges: [Range<Int>] = []
        var start = 0
        var bytes = overhead
        var index = 0
        while index < self.count {
            // The chain from `index`: linked operations and the first unlinked one after them.
            var end = index
            var chainBytes = 0
            while true {
                chainBytes += OperationBatch([self.batch.operation(at: end)]).encodedByteCount - overhead
                end += 1
                if !self.batch.isLinked(at: end - 1) || end == self.count { break }
            }
            let chainCount = end - index
            if index > start && (index - start + chainCount > batchSize || bytes + chainBytes > bytesMax) {
                ranges.append(start..<index)
                start = index
                bytes = overhead
            }
            if chainCount > operationsMax || overhead + chainBytes > bytesMax {
                let what =
                    chainCount == 1
                    ? "the operation" : "the atomic chain of lines \(self.lines[index])-\(self.lines[end - 1])"
                return .failure(
                    InputProblem(
                        line: self.lines[index],
                        message: chainCount > operationsMax
                            ? "\(what) holds \(chainCount) operations, more than the server takes in one request (\(operationsMax))"
                            : "\(what) encodes to \(overhead + chainBytes) bytes, more than the server takes in one request (\(bytesMax))"
                    )
                )
            }
            bytes += chainBytes
            index = end
        }
        if start < self.count {
            ranges.append(start..<self.count)
        }
        return .success(ranges)
    }
}
