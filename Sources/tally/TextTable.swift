/// A table of text for human output: a header row, columns padded to their widest cell, numbers
/// aligned right, two spaces between columns.
struct TextTable {
    enum Alignment {
        case left
        case right
    }

    var columns: [(title: String, alignment: Alignment)]
    var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) {
        self.columns = columns.map { (title: $0.0, alignment: $0.1) }
    }

    mutating func append(_ row: [String]) {
        precondition(
            row.count == self.columns.count,
            "a row of \(row.count) cells in a table of \(self.columns.count) columns"
        )
        self.rows.append(row)
    }

    var lines: [String] {
        let widths = self.columns.indices.map { column in
            ([self.columns[column].title] + self.rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (column, cell) in cells.enumerated() {
                let isLast = column == cells.count - 1
                switch self.columns[column].alignment {
                case .left: text += isLast ? cell : cell.padded(to: widths[column])
                case .right: text += cell.leftPadded(to: widths[column])
                }
                if !isLast { text += "  " }
            }
            return text
        }
        return [line(self.columns.map(\.title))] + self.rows.map(line)
    }

    func print() {
        for line in self.lines {
            Swift.print(line)
        }
    }
}
