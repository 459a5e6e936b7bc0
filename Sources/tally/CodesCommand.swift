import ArgumentParser
import TallyCore

struct CodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codes",
        abstract: "List every result code with its meaning and what a client should do."
    )

    @Flag(name: .long, help: "Print one JSON array.")
    var json = false

    @Flag(name: .long, help: "Print docs/RESULT_CODES.md.")
    var markdown = false

    func validate() throws {
        if self.json && self.markdown {
            throw ValidationError("Choose one of --json and --markdown.")
        }
    }

    struct Entry: Encodable {
        var code: UInt16
        var name: String
        var meaning: String
        var clientAction: String
    }

    func run() {
        if self.markdown {
            print(ResultCode.documentation, terminator: "")
        } else if self.json {
            JSONOutput.print(
                ResultCode.all.map {
                    Entry(code: $0.code.rawValue, name: $0.name, meaning: $0.meaning, clientAction: $0.clientAction)
                }
            )
        } else {
            for info in ResultCode.all {
                print("\(String(info.code.rawValue).leftPadded(to: 3))  \(info.name.padded(to: 38))  \(info.meaning)")
            }
        }
    }
}

extension String {
    func padded(to width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }

    func leftPadded(to width: Int) -> String {
        self.count >= width ? self : String(repeating: " ", count: width - self.count) + self
    }
}
