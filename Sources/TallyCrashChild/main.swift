// The crash-test child: runs a durable engine on a data directory under a seeded concurrent
// workload until it is killed, and logs every operation it saw acknowledged as durable.
//
//     TallyCrashChild <data-directory> <seed> <submitters> <acknowledgement-directory> <run>
//                     [--segment-bytes N] [--write-chunk-bytes N [--write-pause-microseconds N]]
//                     [--lifetime-seconds N]
//
// Tests/TallyEngineTests/CrashTests.swift starts it, kills it with SIGKILL at a random moment,
// restarts it on the same directory and checks that everything in the logs survived. The log
// format is described in AcknowledgementLog.swift; the workload in CrashWorkload.swift.

import Foundation
import TallyEngine

let arguments: CrashChildArguments
do {
    arguments = try CrashChildArguments(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("TallyCrashChild: \(error)\n\(CrashChildArguments.usage)\n".utf8))
    exit(64)
}
do {
    try await CrashChild(arguments).run()
} catch {
    FileHandle.standardError.write(Data("TallyCrashChild run \(arguments.run): \(error)\n".utf8))
    exit(1)
}
