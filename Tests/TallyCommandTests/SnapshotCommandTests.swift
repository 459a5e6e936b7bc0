import Foundation
import SystemPackage
import TallyStorage
import Testing

extension ProcessTests {
    /// `tally snapshot create | verify | inspect`, run as the built executable on data directories the
    /// workload filled: what they print (human and JSON) agrees with what was written, damage is found
    /// and named with exit status 1, and a directory that cannot be used is exit status 3.
    @Suite("tally snapshot")
    struct SnapshotCommandTests {
        private func fixture() throws -> SnapshotFixture {
            try SnapshotFixture.shared.get()
        }

        private func tally(_ arguments: String...) throws -> TallyBinary.Run {
            try TallyBinary.run(arguments)
        }

        @Test func createWritesTheStateThroughTheLastJournalRecord() throws {
            let fixture = try self.fixture()
            #expect(fixture.firstCreateOutput.contains("sequence \(fixture.first.lastSequence) "))
            #expect(fixture.firstCreateOutput.contains("state digest \(fixture.first.digest)"))
            let created = fixture.created
            #expect(created.ok && created.error == nil)
            #expect(created.file == fixture.snapshot(fixture.second.lastSequence))
            // The snapshot holds exactly the state the workload left (no expiry was journaled on the way).
            #expect(created.sequence == fixture.second.lastSequence)
            #expect(created.digest == fixture.second.digest)
            #expect((created.transactions ?? 0) > 0 && (created.accounts ?? 0) >= 40)
            #expect(
                (created.compressedBytes ?? 0) > 0 && (created.uncompressedBytes ?? 0) > (created.compressedBytes ?? 0)
            )

            // Without the newest snapshot, create must write it again from the older one plus the journal.
            let directory = try fixture.copy(named: "create")
            let newest = fixture.snapshot(fixture.second.lastSequence, in: directory)
            try FileManager.default.removeItem(atPath: newest)
            let human = try self.tally("snapshot", "create", "--data-directory", directory)
            #expect(human.status == 0, "\(human)")
            #expect(human.output.contains("wrote \(newest) in "), "\(human)")
            #expect(human.output.contains("sequence \(fixture.second.lastSequence) "), "\(human)")
            #expect(human.output.contains("state digest \(fixture.second.digest)"), "\(human)")
            #expect(FileManager.default.fileExists(atPath: newest))
            // Asked again, the snapshot covers every record already: nothing new, the same state.
            let again: CommandOutput.Create = try self.tally(
                "snapshot",
                "create",
                "--data-directory",
                directory,
                "--json"
            )
            .json()
            #expect(again.ok && again.written == false && again.file == newest)
            #expect(again.sequence == fixture.second.lastSequence && again.digest == fixture.second.digest)
        }

        @Test func inspectShowsWhatCreateWrote() throws {
            let fixture = try self.fixture()
            let created = fixture.created
            let file = try #require(created.file)
            let run = try self.tally("snapshot", "inspect", file, "--json")
            #expect(run.status == 0, "\(run)")
            let described: CommandOutput.Described = try run.json()
            #expect(described.ok && described.file == file)
            #expect(described.formatVersion == 1 && described.stateVersion == 1)
            #expect(described.sequence == created.sequence)
            #expect(described.recordedTimeNanoseconds == created.recordedTimeNanoseconds)
            #expect(described.transactions == created.transactions)
            #expect(described.accounts == created.accounts)
            #expect(described.openHolds == created.openHolds)
            #expect(described.retainedKeys == created.retainedKeys)
            #expect(described.digest == created.digest)
            #expect(described.fileBytes == created.fileBytes)
            #expect(described.compressedBytes == created.compressedBytes)
            #expect(described.uncompressedBytes == created.uncompressedBytes)
            let fileBytes = try #require(
                try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber
            )
            #expect(described.fileBytes == fileBytes.int64Value)
            // The section table: every section in order, back to back from the end of the table.
            let sections = try #require(described.sections)
            #expect(
                sections.map(\.name) == [
                    "counters", "assets", "aggregates", "accounts", "holds", "reversals", "keys", "transactions",
                ]
            )
            #expect(sections.map(\.id) == Array(1...8))
            var offset: Int64 = 128 + 8 * 40 + 4
            for section in sections {
                #expect(section.offset == offset, "\(section.name)")
                #expect(section.checksum.count == 8 && UInt32(section.checksum, radix: 16) != nil)
                offset += section.compressedBytes
            }
            #expect(offset + 16 == described.fileBytes)
            #expect(sections.reduce(0) { $0 + $1.uncompressedBytes } == created.uncompressedBytes)

            let human = try self.tally("snapshot", "inspect", file)
            #expect(human.status == 0, "\(human)")
            #expect(human.output.contains("sequence       \(fixture.second.lastSequence) "), "\(human)")
            #expect(human.output.contains("state digest   \(fixture.second.digest)"), "\(human)")
            for section in sections {
                #expect(human.output.contains("  \(section.name) "), "\(section.name)")
            }

            // Without a file: every snapshot of the directory, newest first.
            let listing: CommandOutput.Listing = try self.tally(
                "snapshot",
                "inspect",
                "--data-directory",
                fixture.directory,
                "--json"
            ).json()
            #expect(listing.ok)
            #expect(listing.snapshots.map(\.sequence) == [fixture.second.lastSequence, fixture.first.lastSequence])
            #expect(listing.snapshots.map(\.digest) == [fixture.second.digest, fixture.first.digest])
            let lines = try self.tally("snapshot", "inspect", "--data-directory", fixture.directory)
            #expect(lines.status == 0, "\(lines)")
            #expect(lines.output.contains("2 snapshots in \(fixture.directory)/snapshots, newest first"), "\(lines)")
            #expect(lines.output.contains("sequence \(fixture.first.lastSequence) "), "\(lines)")
        }

        @Test func verifyPassesWithAndWithoutTheJournalReplayAndWritesNothing() throws {
            let fixture = try self.fixture()
            let before = try SnapshotFixture.tree(fixture.directory)
            let run = try self.tally("snapshot", "verify", "--data-directory", fixture.directory, "--json")
            #expect(run.status == 0, "\(run)")
            let verified: CommandOutput.Verify = try run.json()
            #expect(verified.ok && !verified.replay && verified.verified == 2 && verified.damaged == 0)
            #expect(verified.snapshots.map(\.status) == ["ok", "ok"])
            #expect(verified.snapshots.map(\.digest) == [fixture.second.digest, fixture.first.digest])
            #expect(verified.snapshots.allSatisfy { $0.replayedDigest == nil })

            let replay = try self.tally(
                "snapshot",
                "verify",
                "--data-directory",
                fixture.directory,
                "--replay",
                "--json"
            )
            #expect(replay.status == 0, "\(replay)")
            let replayed: CommandOutput.Verify = try replay.json()
            #expect(replayed.ok && replayed.replay && replayed.verified == 2)
            #expect(replayed.journalRecordsReplayed == fixture.second.lastSequence)
            #expect(replayed.snapshots.map(\.replayedDigest) == [fixture.second.digest, fixture.first.digest])

            let human = try self.tally("snapshot", "verify", "--data-directory", fixture.directory, "--replay")
            #expect(human.status == 0, "\(human)")
            #expect(human.output.contains("snapshots of \(fixture.directory): ok, 2 of 2 sound"), "\(human)")
            #expect(human.output.contains("(the journal's replay agrees)"), "\(human)")
            #expect(try SnapshotFixture.tree(fixture.directory) == before)
        }

        @Test func aFlippedByteInASectionIsDamageNamingTheFile() throws {
            let fixture = try self.fixture()
            let directory = try fixture.copy(named: "flipped")
            let damaged = fixture.snapshot(fixture.second.lastSequence, in: directory)
            let described: CommandOutput.Described = try self.tally("snapshot", "inspect", damaged, "--json").json()
            let accounts = try #require(described.sections?.first { $0.name == "accounts" })
            let file = try FileHandle(forUpdating: URL(fileURLWithPath: damaged))
            let offset = UInt64(accounts.offset + accounts.compressedBytes / 2)
            try file.seek(toOffset: offset)
            let byte = try #require(try file.read(upToCount: 1)?.first)
            try file.seek(toOffset: offset)
            try file.write(contentsOf: [byte ^ 0x10])
            try file.close()

            let run = try self.tally("snapshot", "verify", "--data-directory", directory, "--json")
            #expect(run.status == 1, "\(run)")
            let verified: CommandOutput.Verify = try run.json()
            #expect(!verified.ok && verified.damaged == 1 && verified.verified == 1)
            let entry = try #require(verified.entry((damaged as NSString).lastPathComponent))
            #expect(entry.status == "damaged" && entry.file == damaged)
            #expect(entry.error?.contains(damaged) == true && entry.error?.contains("section accounts") == true)
            // The older snapshot is still checked and reported.
            #expect(
                verified.entry((fixture.snapshot(fixture.first.lastSequence) as NSString).lastPathComponent)?.status
                    == "ok"
            )

            let human = try self.tally("snapshot", "verify", "--data-directory", directory, "--replay")
            #expect(human.status == 1, "\(human)")
            #expect(human.output.contains("DAMAGED    \(damaged)"), "\(human)")
            // inspect reads the header and the table only, which are intact.
            #expect(try self.tally("snapshot", "inspect", damaged).status == 0)
        }

        @Test func aTruncatedSnapshotIsDamage() throws {
            let fixture = try self.fixture()
            let directory = try fixture.copy(named: "truncated")
            let damaged = fixture.snapshot(fixture.second.lastSequence, in: directory)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: damaged)[.size] as? NSNumber)
            let file = try FileHandle(forUpdating: URL(fileURLWithPath: damaged))
            try file.truncate(atOffset: size.uint64Value - 1_000)
            try file.close()

            let run = try self.tally("snapshot", "verify", "--data-directory", directory, "--json")
            #expect(run.status == 1, "\(run)")
            let verified: CommandOutput.Verify = try run.json()
            let entry = try #require(verified.entry((damaged as NSString).lastPathComponent))
            #expect(entry.status == "damaged" && entry.error?.contains("truncated") == true, "\(run)")
            #expect(verified.verified == 1)

            let inspected = try self.tally("snapshot", "inspect", damaged, "--json")
            #expect(inspected.status == 1, "\(inspected)")
            let described: CommandOutput.Described = try inspected.json()
            #expect(!described.ok && described.error?.contains(damaged) == true)
            let listing = try self.tally("snapshot", "inspect", "--data-directory", directory)
            #expect(listing.status == 1, "\(listing)")
            #expect(listing.output.contains("DAMAGED OR UNREADABLE"), "\(listing)")
        }

        /// Rewrites header bytes `range` of the snapshot at `path` with `change` and puts a checksum
        /// that matches in place (docs/FORMATS.md: CRC-32C of bytes 0-123 at 124): a header that checks
        /// out but says something the state does not.
        private func rewriteHeader(_ path: String, _ range: Range<Int>, _ change: (inout [UInt8]) -> Void) throws {
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            var field = Array(bytes[range])
            change(&field)
            bytes.replaceSubrange(range, with: field)
            let checksum = CRC32C.checksum(Array(bytes[0..<124]))
            withUnsafeBytes(of: checksum.littleEndian) { bytes.replaceSubrange(124..<128, with: $0) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }

        @Test func aHeaderThatDisagreesWithTheStateIsDamage() throws {
            let fixture = try self.fixture()
            let directory = try fixture.copy(named: "header")
            let digest = fixture.snapshot(fixture.second.lastSequence, in: directory)
            let counts = fixture.snapshot(fixture.first.lastSequence, in: directory)
            try self.rewriteHeader(digest, 80..<112) { $0[5] ^= 0x01 }
            // The transactions count, one more.
            try self.rewriteHeader(counts, 32..<40) { $0[0] &+= 1 }
            // Both headers check out: inspect (header and table only) has nothing to say.
            #expect(try self.tally("snapshot", "inspect", "--data-directory", directory).status == 0)

            let run = try self.tally("snapshot", "verify", "--data-directory", directory, "--json")
            #expect(run.status == 1, "\(run)")
            let verified: CommandOutput.Verify = try run.json()
            #expect(verified.damaged == 2)
            let digestEntry = try #require(verified.entry((digest as NSString).lastPathComponent))
            #expect(digestEntry.status == "damaged")
            #expect(digestEntry.error?.contains("the restored state's digest") == true, "\(run)")
            let countsEntry = try #require(verified.entry((counts as NSString).lastPathComponent))
            #expect(countsEntry.status == "damaged")
            #expect(countsEntry.error?.contains("the header says transactions") == true, "\(run)")
        }

        @Test func theReplayFindsSnapshotsTheJournalDoesNotAccountFor() throws {
            let fixture = try self.fixture()
            // Another directory with the same settings but another, shorter history: the fixture's
            // snapshots are sound in themselves but are not what this journal says.
            let other = SnapshotFixture.root + "/other-\(UUID().uuidString.prefix(8))"
            let simulated = try TallyBinary.run(SnapshotFixture.simulate(other, seed: 3, operations: 1_000))
            #expect(simulated.status == 0, "\(simulated)")
            let history: CommandOutput.Simulate = try simulated.json()
            try #require(history.lastSequence >= fixture.first.lastSequence)
            try #require(history.lastSequence < fixture.second.lastSequence)
            let older = fixture.snapshot(fixture.first.lastSequence)
            let newer = fixture.snapshot(fixture.second.lastSequence)

            let sound = try self.tally("snapshot", "verify", "--data-directory", other, older, newer)
            #expect(sound.status == 0, "\(sound)")
            let run = try self.tally(
                "snapshot",
                "verify",
                "--data-directory",
                other,
                "--replay",
                "--json",
                older,
                newer
            )
            #expect(run.status == 1, "\(run)")
            let verified: CommandOutput.Verify = try run.json()
            #expect(verified.snapshots.map(\.file) == [older, newer])
            #expect(verified.snapshots.map(\.status) == ["damaged", "damaged"])
            let diverged = verified.snapshots[0]
            #expect(diverged.replayedDigest != nil && diverged.replayedDigest != diverged.digest)
            #expect(diverged.error?.contains("replaying the journal from empty through sequence") == true, "\(run)")
            let beyond = verified.snapshots[1]
            #expect(beyond.replayedDigest == nil)
            #expect(
                beyond.error?.contains("the journal ends at sequence \(history.lastSequence), before") == true,
                "\(run)"
            )
        }

        @Test func aMissingDataDirectoryCannotRun() throws {
            let missing = SnapshotFixture.root + "/missing-\(UUID().uuidString.prefix(8))"
            let create = try self.tally("snapshot", "create", "--data-directory", missing, "--json")
            #expect(create.status == 3, "\(create)")
            let created: CommandOutput.Create = try create.json()
            #expect(!created.ok && created.error == "there is no data directory at \(missing)")
            #expect(!FileManager.default.fileExists(atPath: missing), "create must not make a data directory")
            for arguments in [["verify"], ["verify", "--replay"], ["inspect"]] {
                let run = try TallyBinary.run(["snapshot"] + arguments + ["--data-directory", missing])
                #expect(run.status == 3, "\(run)")
                #expect(run.output.contains("there is no data directory at \(missing)"), "\(run)")
            }
            let file = try self.tally("snapshot", "inspect", missing + "/snapshot-00000000000000000001.tsnap")
            #expect(file.status == 3, "\(file)")
        }

        @Test func aLockedDirectoryRefusesCreateButCanBeVerified() throws {
            let fixture = try self.fixture()
            let directory = try fixture.copy(named: "locked")
            // Held the way a running server holds it.
            let held = try DataDirectory(FilePath(directory), create: false)
            defer { held.close() }
            let create = try self.tally("snapshot", "create", "--data-directory", directory)
            #expect(create.status == 3, "\(create)")
            #expect(create.output.contains("is in use by another tally process (pid \(getpid()))"), "\(create)")
            let verify = try self.tally("snapshot", "verify", "--data-directory", directory, "--replay")
            #expect(verify.status == 0, "\(verify)")
        }
    }
}
