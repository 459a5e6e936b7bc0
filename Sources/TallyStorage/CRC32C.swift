import CTallySystem

/// CRC-32C (Castagnoli), the checksum of journal records and snapshot files.
public enum CRC32C {
    /// The checksum of `bytes`, continuing from `previous` (the checksum of the bytes before them).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        tally_crc32c(previous, bytes.baseAddress, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8], continuing previous: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { self.checksum($0, continuing: previous) }
    }

    /// ``checksum(_:continuing:)`` computed with the table even where the processor has the
    /// crc32 instruction: for tests that check both ways agree.
    static func tableChecksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        tally_crc32c_table(previous, bytes.baseAddress, bytes.count)
    }

    /// Whether this machine computes it with the processor's crc32 instruction.
    public static var isHardwareAccelerated: Bool { tally_crc32c_is_hardware() != 0 }
}
