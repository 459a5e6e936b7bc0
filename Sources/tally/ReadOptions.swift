import ArgumentParser
import TallyWire

/// The options of the commands that read.
struct ReadOptions: ParsableArguments {
    @Flag(name: .long, help: "Read everything applied, durable or not (default: durable state only).")
    var applied = false

    @Flag(name: .long, help: "Print amounts in minor units instead of by the asset's scale.")
    var minorUnits = false

    var consistency: ReadConsistency { self.applied ? .applied : .durable }
}
