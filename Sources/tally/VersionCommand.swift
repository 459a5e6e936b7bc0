import ArgumentParser

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version of tally and of the formats it uses."
    )

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct Report: Encodable {
        var version: String
        var stateDigestVersion: Int
        var fingerprintVersion: Int
    }

    func run() {
        if self.json {
            JSONOutput.print(
                Report(
                    version: TallyVersion.string,
                    stateDigestVersion: TallyVersion.stateDigestVersion,
                    fingerprintVersion: TallyVersion.fingerprintVersion
                )
            )
        } else {
            print("tally \(TallyVersion.string)")
            print(
                "state digest v\(TallyVersion.stateDigestVersion), content fingerprint v\(TallyVersion.fingerprintVersion)"
            )
        }
    }
}
