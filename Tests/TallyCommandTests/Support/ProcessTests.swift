import Testing

/// The suites that run the `tally` executable and wait for it (a server process, client
/// commands, offline tools), one test at a time. Their waits block a thread of the cooperative
/// pool, which has one thread per core; run side by side, they held both cores' threads for tens
/// of seconds and every async test of the whole run stalled meanwhile (client tests timed out
/// against fake servers that could not be scheduled). Nested here, they block at most one.
@Suite(.serialized)
enum ProcessTests {}
