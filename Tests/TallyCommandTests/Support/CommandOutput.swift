/// The `--json` objects the tests read, field by field as the commands promise them (snake-case keys
/// decoded into these names; a missing non-optional field fails the decode).
enum CommandOutput {
    /// `tally simulate --data-directory D --json`.
    struct Simulate: Decodable, Sendable {
        var lastSequence: UInt64
        var digest: String
    }

    /// `tally snapshot create --json`.
    struct Create: Decodable, Sendable {
        var dataDirectory: String
        var ok: Bool
        var written: Bool?
        var file: String?
        var sequence: UInt64?
        var recordedTimeNanoseconds: UInt64?
        var transactions: UInt64?
        var accounts: UInt64?
        var openHolds: UInt64?
        var retainedKeys: UInt64?
        var compressedBytes: Int64?
        var uncompressedBytes: Int64?
        var fileBytes: Int64?
        var digest: String?
        var seconds: Double?
        var rejectedSnapshots: [String]
        var error: String?
    }

    /// One file in `tally snapshot inspect --json`.
    struct Described: Decodable, Sendable {
        var file: String
        var ok: Bool
        var error: String?
        var formatVersion: UInt16?
        var stateVersion: UInt16?
        var sequence: UInt64?
        var recordedTimeNanoseconds: UInt64?
        var createdUnixNanoseconds: UInt64?
        var transactions: UInt64?
        var accounts: UInt64?
        var openHolds: UInt64?
        var retainedKeys: UInt64?
        var digest: String?
        var fileBytes: Int64?
        var compressedBytes: Int64?
        var uncompressedBytes: Int64?
        var sections: [Section]?

        struct Section: Decodable, Sendable {
            var name: String
            var id: UInt16
            var offset: Int64
            var compressedBytes: Int64
            var uncompressedBytes: Int64
            var ratio: Double
            var checksum: String
        }
    }

    /// `tally snapshot inspect --json` without a file.
    struct Listing: Decodable, Sendable {
        var dataDirectory: String
        var ok: Bool
        var snapshots: [Described]
        var error: String?
    }

    /// `tally snapshot verify --json`.
    struct Verify: Decodable, Sendable {
        var dataDirectory: String
        var ok: Bool
        var replay: Bool
        var snapshots: [Checked]
        var verified: Int
        var damaged: Int
        var unreadable: Int
        var journalRecordsReplayed: UInt64?
        var error: String?

        struct Checked: Decodable, Sendable {
            var file: String
            var status: String
            var sequence: UInt64?
            var digest: String?
            var replayedDigest: String?
            var error: String?
        }

        /// The entry of the file whose path ends with `name`.
        func entry(_ name: String) -> Checked? {
            self.snapshots.first { $0.file.hasSuffix(name) }
        }
    }
}
