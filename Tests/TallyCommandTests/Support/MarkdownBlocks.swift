import Foundation

/// The fenced code blocks of a Markdown document, with their info strings (```jsonl operations).
struct MarkdownBlock: Sendable {
    /// The words after the opening fence: the language, then what the block is.
    var info: [String]
    var lines: [String]
    /// The document line of the opening fence, for messages.
    var line: Int

    var text: String { self.lines.joined(separator: "\n") }

    static func parse(_ document: String) -> [MarkdownBlock] {
        var blocks: [MarkdownBlock] = []
        var open: MarkdownBlock?
        for (index, line) in document.components(separatedBy: "\n").enumerated() {
            if line.hasPrefix("```") {
                if let block = open {
                    blocks.append(block)
                    open = nil
                } else {
                    open = MarkdownBlock(
                        info: line.dropFirst(3).split(separator: " ").map(String.init),
                        lines: [],
                        line: index + 1
                    )
                }
            } else if open != nil {
                open!.lines.append(line)
            }
        }
        return blocks
    }

    /// docs/CLI.md of this checkout.
    static func cliDocument() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("docs/CLI.md"), encoding: .utf8)
    }
}
