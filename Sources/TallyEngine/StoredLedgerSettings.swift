import SystemPackage
import TallyCore
import TallyStorage

/// The settings that shape a ledger's state, kept in the data directory (`ledger.conf`) from its
/// creation on: replay reproduces a state only under the same windows and limits, so a data
/// directory has one set of them for life. The file is text, one `name=value` per line.
struct StoredLedgerSettings: Hashable {
    static let fileName = "ledger.conf"

    var idempotencyWindowSeconds: UInt64
    var transactionRetentionSeconds: UInt64
    var accountsMax: Int

    init(_ configuration: LedgerConfiguration) {
        self.idempotencyWindowSeconds = configuration.idempotencyWindowSeconds
        self.transactionRetentionSeconds = configuration.transactionRetentionSeconds
        self.accountsMax = configuration.accountsMax
    }

    /// `configuration` with these settings in place of its own.
    func applied(to configuration: LedgerConfiguration) -> LedgerConfiguration {
        var configuration = configuration
        configuration.idempotencyWindowSeconds = self.idempotencyWindowSeconds
        configuration.transactionRetentionSeconds = self.transactionRetentionSeconds
        configuration.accountsMax = self.accountsMax
        return configuration
    }

    /// The settings on one line, for messages.
    var summary: String {
        "idempotency window \(self.idempotencyWindowSeconds) s, transaction retention \(self.transactionRetentionSeconds) s, at most \(self.accountsMax) accounts"
    }

    var text: String {
        """
        # Written when this data directory was created. Replaying the journal reproduces the ledger
        # only under these settings, so they never change for this directory.
        idempotency_window_seconds=\(self.idempotencyWindowSeconds)
        transaction_retention_seconds=\(self.transactionRetentionSeconds)
        accounts_max=\(self.accountsMax)

        """
    }

    init(text: String) throws {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else {
                throw StorageError(.corrupted, "\(Self.fileName): cannot read line '\(line)'")
            }
            values[String(parts[0])] = String(parts[1])
        }
        func number<N: FixedWidthInteger>(_ name: String, as: N.Type) throws -> N {
            guard let text = values[name], let value = N(text) else {
                throw StorageError(.corrupted, "\(Self.fileName): \(name) is missing or not a number")
            }
            return value
        }
        self.idempotencyWindowSeconds = try number("idempotency_window_seconds", as: UInt64.self)
        self.transactionRetentionSeconds = try number("transaction_retention_seconds", as: UInt64.self)
        self.accountsMax = try number("accounts_max", as: Int.self)
        guard self.accountsMax >= 0 && self.accountsMax <= Limits.accountsMax else {
            throw StorageError(.corrupted, "\(Self.fileName): accounts_max \(self.accountsMax) is out of range")
        }
    }

    /// The settings stored in `directory`, or nil for a directory that has none yet.
    static func load(from directory: DataDirectory) throws -> StoredLedgerSettings? {
        let path = directory.path.appending(Self.fileName)
        guard directory.fileSystem.fileExists(path) else { return nil }
        let file = try directory.fileSystem.openFile(path, create: false)
        defer { try? directory.fileSystem.close(file) }
        let size = try directory.fileSystem.size(of: file)
        guard size <= 64 << 10 else {
            throw StorageError(.corrupted, "\(Self.fileName) is \(size) bytes; it should be a few lines", path: path)
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let read = try bytes.withUnsafeMutableBytes { try directory.fileSystem.read(file, into: $0, at: 0) }
        return try StoredLedgerSettings(text: String(decoding: bytes[0..<read], as: UTF8.self))
    }

    /// Stores the settings in `directory`: temporary file, sync, rename, directory sync.
    func store(in directory: DataDirectory) throws {
        let fileSystem = directory.fileSystem
        let temporary = directory.path.appending(Self.fileName + ".tmp")
        let file = try fileSystem.openFile(temporary, create: true)
        do {
            try fileSystem.resize(file, to: 0)
            try Array(self.text.utf8).withUnsafeBytes { try fileSystem.write(file, $0, at: 0) }
            try fileSystem.synchronize(file)
            try fileSystem.close(file)
        } catch {
            try? fileSystem.close(file)
            throw error
        }
        try fileSystem.rename(temporary, to: directory.path.appending(Self.fileName))
        let handle = try fileSystem.openDirectory(directory.path)
        defer { try? fileSystem.close(handle) }
        try fileSystem.synchronize(handle)
    }
}
