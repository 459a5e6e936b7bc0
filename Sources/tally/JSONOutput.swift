import Foundation

/// `--json` output: one JSON value on one line, keys sorted so that output is stable.
enum JSONOutput {
    static func print<Value: Encodable>(_ value: Value) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        do {
            let data = try encoder.encode(value)
            Swift.print(String(decoding: data, as: UTF8.self))
        } catch {
            preconditionFailure("encoding \(Value.self) as JSON failed: \(error)")
        }
    }
}
