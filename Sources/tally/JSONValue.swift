/// A JSON value as the operation format reads and writes it (docs/CLI.md).
///
/// Numbers keep their literal text, so an integer of any width (a `UInt128` amount, a `UInt64` id)
/// is decoded exactly from its digits and never passes through a floating-point number; objects
/// keep their members in order, and a duplicate member name is a syntax error.
enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// The literal text of a number, checked against JSON's number grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    struct Member: Hashable, Sendable {
        var name: String
        var value: JSONValue

        init(_ name: String, _ value: JSONValue) {
            self.name = name
            self.value = value
        }
    }

    /// An integer as a JSON number.
    static func integer(_ value: some BinaryInteger) -> JSONValue {
        .number(String(value))
    }

    /// What a message calls this value: the value itself when short, else its type.
    var shortDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let text): return text.count <= 48 ? text : "a number of \(text.count) characters"
        case .string(let text):
            return text.count <= 48 ? JSONValue.string(text).serialized() : "a string of \(text.count) characters"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    // MARK: - Writing

    /// The value as compact JSON on one line: object members sorted by name (the house rule for
    /// `--json`, so that output is stable), strings escaped only where JSON requires it.
    func serialized() -> String {
        var text = ""
        self.write(into: &text)
        return text
    }

    private func write(into text: inout String) {
        switch self {
        case .null:
            text += "null"
        case .bool(let value):
            text += value ? "true" : "false"
        case .number(let literal):
            text += literal
        case .string(let value):
            JSONValue.writeString(value, into: &text)
        case .array(let elements):
            text += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { text += "," }
                element.write(into: &text)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, member) in members.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) })
                .enumerated()
            {
                if index > 0 { text += "," }
                JSONValue.writeString(member.name, into: &text)
                text += ":"
                member.value.write(into: &text)
            }
            text += "}"
        }
    }

    private static func writeString(_ value: String, into text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }

    // MARK: - Reading

    /// A syntax error: where (a byte offset in the text, 0-based) and what was expected.
    struct SyntaxError: Error, Hashable, Sendable {
        var offset: Int
        var message: String
    }

    /// Objects and arrays nest at most this deep: far more than any operation needs, and a bound on
    /// the parser's recursion.
    static let depthMax = 32

    /// Parses exactly one JSON value (RFC 8259) from `bytes`, with only whitespace around it.
    static func parse(_ bytes: some Collection<UInt8>) throws(SyntaxError) -> JSONValue {
        var parser = Parser(Array(bytes))
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else {
            throw SyntaxError(offset: parser.position, message: "unexpected text after the JSON value")
        }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        var next: UInt8? { self.position < self.bytes.count ? self.bytes[self.position] : nil }

        mutating func skipWhitespace() {
            while let byte = self.next, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                self.position += 1
            }
        }

        func error(_ message: String, at offset: Int? = nil) -> SyntaxError {
            SyntaxError(offset: offset ?? self.position, message: message)
        }

        /// What a message calls the byte at the current position.
        var found: String {
            guard let byte = self.next else { return "the end of the line" }
            if byte >= 0x21 && byte < 0x7F {
                return "'\(String(UnicodeScalar(byte)))'"
            }
            return "byte 0x\(String(byte, radix: 16))"
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONValue {
            guard let byte = self.next else {
                throw self.error("expected a JSON value, found the end of the line")
            }
            switch byte {
            case UInt8(ascii: "{"):
                return try self.object(depth: depth + 1)
            case UInt8(ascii: "["):
                return try self.array(depth: depth + 1)
            case UInt8(ascii: "\""):
                return .string(try self.string())
            case UInt8(ascii: "t"):
                try self.literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try self.literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try self.literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .number(try self.number())
            default:
                throw self.error("expected a JSON value, found \(self.found)")
            }
        }

        mutating func literal(_ word: StaticString) throws(SyntaxError) {
            let start = self.position
            let expected = word.withUTF8Buffer { Array($0) }
            guard self.bytes.count - start >= expected.count,
                self.bytes[start..<start + expected.count].elementsEqual(expected)
            else {
                throw self.error("expected a JSON value, found \(self.found)")
            }
            self.position += expected.count
        }

        mutating func object(depth: Int) throws(SyntaxError) -> JSONValue {
            guard depth <= JSONValue.depthMax else {
                throw self.error("objects and arrays nest deeper than \(JSONValue.depthMax) levels")
            }
            self.position += 1
            var members: [Member] = []
            self.skipWhitespace()
            if self.next == UInt8(ascii: "}") {
                self.position += 1
                return .object(members)
            }
            while true {
                self.skipWhitespace()
                guard self.next == UInt8(ascii: "\"") else {
                    throw self.error("expected a member name in double quotes, found \(self.found)")
                }
                let nameOffset = self.position
                let name = try self.string()
                // Objects are small: a scan finds a duplicate faster than hashing every name.
                guard !members.contains(where: { $0.name == name }) else {
                    throw self.error("the member \"\(name)\" appears twice", at: nameOffset)
                }
                self.skipWhitespace()
                guard self.next == UInt8(ascii: ":") else {
                    throw self.error("expected ':' after the member name \"\(name)\", found \(self.found)")
                }
                self.position += 1
                self.skipWhitespace()
                members.append(Member(name, try self.value(depth: depth)))
                self.skipWhitespace()
                switch self.next {
                case UInt8(ascii: ","):
                    self.position += 1
                case UInt8(ascii: "}"):
                    self.position += 1
                    return .object(members)
                default:
                    throw self.error("expected ',' or '}' after a member, found \(self.found)")
                }
            }
        }

        mutating func array(depth: Int) throws(SyntaxError) -> JSONValue {
            guard depth <= JSONValue.depthMax else {
                throw self.error("objects and arrays nest deeper than \(JSONValue.depthMax) levels")
            }
            self.position += 1
            var elements: [JSONValue] = []
            self.skipWhitespace()
            if self.next == UInt8(ascii: "]") {
                self.position += 1
                return .array(elements)
            }
            while true {
                self.skipWhitespace()
                elements.append(try self.value(depth: depth))
                self.skipWhitespace()
                switch self.next {
                case UInt8(ascii: ","):
                    self.position += 1
                case UInt8(ascii: "]"):
                    self.position += 1
                    return .array(elements)
                default:
                    throw self.error("expected ',' or ']' after an array element, found \(self.found)")
                }
            }
        }

        /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, returned as its text.
        mutating func number() throws(SyntaxError) -> String {
            let start = self.position
            if self.next == UInt8(ascii: "-") {
                self.position += 1
            }
            guard let first = self.next, first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") else {
                throw self.error("expected a digit, found \(self.found)")
            }
            self.position += 1
            if first == UInt8(ascii: "0"), let byte = self.next, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            {
                throw self.error("a JSON number has no leading zero")
            }
            self.skipDigits()
            if self.next == UInt8(ascii: ".") {
                self.position += 1
                guard self.skipDigits() > 0 else {
                    throw self.error("expected a digit after the decimal point, found \(self.found)")
                }
            }
            if self.next == UInt8(ascii: "e") || self.next == UInt8(ascii: "E") {
                self.position += 1
                if self.next == UInt8(ascii: "+") || self.next == UInt8(ascii: "-") {
                    self.position += 1
                }
                guard self.skipDigits() > 0 else {
                    throw self.error("expected a digit in the exponent, found \(self.found)")
                }
            }
            return String(decoding: self.bytes[start..<self.position], as: UTF8.self)
        }

        @discardableResult
        mutating func skipDigits() -> Int {
            let start = self.position
            while let byte = self.next, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                self.position += 1
            }
            return self.position - start
        }

        /// A string from its opening quote; UTF-8 is checked, escapes are decoded, a lone surrogate
        /// is an error.
        mutating func string() throws(SyntaxError) -> String {
            self.position += 1
            let start = self.position
            // The common case, plain ASCII without escapes, is one copy and no validation.
            var utf8: [UInt8] = []
            var run = start
            var runIsASCII = true
            var hasEscapes = false
            while true {
                guard let byte = self.next else {
                    throw self.error("a string has no closing quote")
                }
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    if !runIsASCII {
                        guard String(validating: self.bytes[run..<self.position], as: UTF8.self) != nil else {
                            throw self.error("a string is not valid UTF-8", at: run)
                        }
                    }
                    if byte == UInt8(ascii: "\"") {
                        let end = self.position
                        self.position += 1
                        if !hasEscapes {
                            return String(decoding: self.bytes[start..<end], as: UTF8.self)
                        }
                        utf8.append(contentsOf: self.bytes[run..<end])
                        return String(decoding: utf8, as: UTF8.self)
                    }
                    utf8.append(contentsOf: self.bytes[run..<self.position])
                    hasEscapes = true
                    utf8.append(contentsOf: String(try self.escape()).utf8)
                    run = self.position
                    runIsASCII = true
                case 0..<0x20:
                    throw self.error(
                        "a control character (byte 0x\(String(byte, radix: 16))) must be escaped in a string"
                    )
                default:
                    if byte >= 0x80 {
                        runIsASCII = false
                    }
                    self.position += 1
                }
            }
        }

        mutating func escape() throws(SyntaxError) -> Unicode.Scalar {
            let start = self.position
            self.position += 1
            guard let byte = self.next else { throw self.error("a string has no closing quote") }
            self.position += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let high = try self.hexQuad()
                if (0xD800..<0xDC00).contains(high) {
                    guard self.next == UInt8(ascii: "\\"), self.position + 1 < self.bytes.count,
                        self.bytes[self.position + 1] == UInt8(ascii: "u")
                    else {
                        throw self.error("a lone UTF-16 high surrogate \\u\(String(high, radix: 16))", at: start)
                    }
                    self.position += 2
                    let low = try self.hexQuad()
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw self.error("a UTF-16 high surrogate not followed by a low one", at: start)
                    }
                    return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
                }
                guard let scalar = Unicode.Scalar(high) else {
                    throw self.error("a lone UTF-16 low surrogate \\u\(String(high, radix: 16))", at: start)
                }
                return scalar
            default:
                throw self.error("unknown escape '\\\(String(UnicodeScalar(byte)))' in a string", at: start)
            }
        }

        mutating func hexQuad() throws(SyntaxError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = self.next, let digit = hexDigitValue(byte) else {
                    throw self.error("expected 4 hexadecimal digits after \\u")
                }
                value = value << 4 | UInt32(digit)
                self.position += 1
            }
            return value
        }
    }
}

/// The value of one hexadecimal digit (either case), or nil.
func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}
