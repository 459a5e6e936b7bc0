import SystemPackage
import TallyStorage

/// The child's command line. Positional arguments, because the only caller is a test that builds
/// the command line itself.
struct CrashChildArguments {
    static let usage = """
        usage: TallyCrashChild <data-directory> <seed> <submitters> <acknowledgement-directory> <run>
                               [--segment-bytes N] [--write-chunk-bytes N [--write-pause-microseconds N]]
                               [--lifetime-seconds N] [--snapshot-every-records N]
        """

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    var dataDirectory: FilePath
    var seed: UInt64
    /// Concurrent submitters, 1 ... ``CrashWorkload/submittersMax``.
    var submitters: Int
    /// Where the acknowledgement logs and intent files go (see ``AcknowledgementLog``).
    var acknowledgementDirectory: FilePath
    /// The restart number, 1 and up: part of every idempotency key, so runs never collide.
    var run: UInt64
    /// Journal segment size; the smallest by default, so segments rotate every few dozen batches.
    var segmentBytes = Journal.segmentBytesMin
    /// When set, every file write goes out in chunks of this many bytes (see
    /// ``ChunkedWriteFileSystem``), so that kills can land inside a journal write.
    var writeChunkBytes: Int? = nil
    /// The pause between two chunks.
    var writePauseMicroseconds: UInt32 = 0
    /// The child exits by itself after this long, so a test that died without killing it does not
    /// leave it running.
    var lifetimeSeconds: UInt64 = 120
    /// When set, the engine snapshots every this many records in the background, keeps two and
    /// archives the journal they cover, so that kills land in snapshot writes and archiving too.
    var snapshotEveryRecords: UInt64? = nil

    init(_ arguments: [String]) throws {
        var positional: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") {
                guard index + 1 < arguments.count, let value = Int(arguments[index + 1]), value > 0 else {
                    throw Invalid(description: "\(argument) needs a positive number")
                }
                switch argument {
                case "--segment-bytes":
                    guard value >= Journal.segmentBytesMin && value <= Int(Int32.max) else {
                        throw Invalid(description: "--segment-bytes must be \(Journal.segmentBytesMin) to 2^31 - 1")
                    }
                    self.segmentBytes = value
                case "--write-chunk-bytes":
                    self.writeChunkBytes = value
                case "--write-pause-microseconds":
                    guard value <= 1_000_000 else {
                        throw Invalid(description: "--write-pause-microseconds must be at most 1,000,000")
                    }
                    self.writePauseMicroseconds = UInt32(value)
                case "--lifetime-seconds":
                    self.lifetimeSeconds = UInt64(value)
                case "--snapshot-every-records":
                    self.snapshotEveryRecords = UInt64(value)
                default:
                    throw Invalid(description: "unknown option \(argument)")
                }
                index += 2
            } else {
                positional.append(argument)
                index += 1
            }
        }
        guard positional.count == 5 else {
            throw Invalid(description: "expected 5 arguments, got \(positional.count)")
        }
        guard let seed = UInt64(positional[1]) else {
            throw Invalid(description: "seed '\(positional[1])' is not an unsigned 64-bit number")
        }
        guard let submitters = Int(positional[2]), (1...CrashWorkload.submittersMax).contains(submitters) else {
            throw Invalid(description: "submitters must be 1 to \(CrashWorkload.submittersMax)")
        }
        // Keys hold the run in their top 32 bits (see CrashWorkload.key).
        guard let run = UInt64(positional[4]), run >= 1, run <= UInt64(UInt32.max) else {
            throw Invalid(description: "run must be 1 to 2^32 - 1")
        }
        self.dataDirectory = FilePath(positional[0])
        self.seed = seed
        self.submitters = submitters
        self.acknowledgementDirectory = FilePath(positional[3])
        self.run = run
    }
}
