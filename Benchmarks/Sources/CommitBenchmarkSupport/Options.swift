#if canImport(Glibc)
import Glibc
#endif

/// A small command-line reader shared by the commit harnesses: `--name value` options and
/// `--name` switches, each declared with a default and a line of help, so every harness prints the
/// same kind of usage and refuses what it does not know.
public struct Options {
    private struct Declaration {
        var name: String
        var defaultValue: String?
        var help: String
    }

    private let program: String
    private let summary: String
    private var declarations: [Declaration] = []
    private var values: [String: String] = [:]
    private var switches: Set<String> = []

    public init(program: String, summary: String) {
        self.program = program
        self.summary = summary
    }

    /// Declares `--name value`.
    public mutating func option(_ name: String, default value: String, _ help: String) {
        self.declarations.append(Declaration(name: name, defaultValue: value, help: help))
    }

    /// Declares `--name` (off unless given).
    public mutating func flag(_ name: String, _ help: String) {
        self.declarations.append(Declaration(name: name, defaultValue: nil, help: help))
    }

    /// Reads `arguments` (without the program name); prints the usage and exits on `--help` or on
    /// anything undeclared.
    public mutating func parse(_ arguments: [String]) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--help" || argument == "-h" {
                self.usage(nil)
            }
            guard argument.hasPrefix("--"),
                let declaration = self.declarations.first(where: { $0.name == String(argument.dropFirst(2)) })
            else {
                self.usage("unknown argument \(argument)")
            }
            if declaration.defaultValue == nil {
                self.switches.insert(declaration.name)
            } else {
                index += 1
                guard index < arguments.count else { self.usage("\(argument) needs a value") }
                self.values[declaration.name] = arguments[index]
            }
            index += 1
        }
    }

    public func usage(_ problem: String?) -> Never {
        if let problem {
            print("error: \(problem)")
        }
        print("usage: \(self.program) [options]\n\n\(self.summary)\n")
        for declaration in self.declarations {
            let left =
                declaration.defaultValue == nil ? "--\(declaration.name)" : "--\(declaration.name) <value>"
            let suffix = declaration.defaultValue.map { $0.isEmpty ? "" : " (default \($0))" } ?? ""
            print("  \(left.padding(to: 28)) \(declaration.help)\(suffix)")
        }
        exit(problem == nil ? 0 : 2)
    }

    public func isSet(_ name: String) -> Bool {
        self.switches.contains(name)
    }

    public func string(_ name: String) -> String {
        guard let declaration = self.declarations.first(where: { $0.name == name }),
            let defaultValue = declaration.defaultValue
        else {
            preconditionFailure("option --\(name) was never declared")
        }
        return self.values[name] ?? defaultValue
    }

    /// A count; underscores are allowed as separators (`2_000_000`).
    public func int(_ name: String) -> Int {
        let text = self.string(name)
        guard let value = Int(String(text.filter { $0 != "_" })), value >= 0 else {
            self.usage("--\(name) takes a count, not \(text)")
        }
        return value
    }

    public func double(_ name: String) -> Double {
        let text = self.string(name)
        guard let value = Double(text), value >= 0 else {
            self.usage("--\(name) takes a non-negative number, not \(text)")
        }
        return value
    }

    /// A comma-separated list of counts; empty for none.
    public func ints(_ name: String) -> [Int] {
        let text = self.string(name)
        guard !text.isEmpty else { return [] }
        return text.split(separator: ",").map { part in
            guard let value = Int(String(part.filter { $0 != "_" })), value >= 0 else {
                self.usage("--\(name) takes counts separated by commas, not \(text)")
            }
            return value
        }
    }
}

extension String {
    func padding(to width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }
}
