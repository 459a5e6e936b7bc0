import ArgumentParser
import TallyClient

/// Runs a client command: connects to the server, runs the command's work, closes, and leaves with
/// the work's exit code, or reports the failure that stopped it and leaves with that one's.
enum ClientSession {
    static func run(_ options: ClientOptions, _ work: (TallyClient) async throws -> ExitCode) async throws {
        let exit: ExitCode
        do {
            let client = try await Self.connect(options)
            do {
                exit = try await work(client)
            } catch {
                await client.close()
                throw error
            }
            await client.close()
        } catch let failure as ClientFailure {
            failure.report(json: options.json)
            throw failure.exit
        } catch let error as TallyClientError {
            let failure = ClientFailure.client(error, socket: options.socket, connecting: false)
            failure.report(json: options.json)
            throw failure.exit
        }
        throw exit
    }

    /// Reports `failure` and leaves with its exit code: for failures found before connecting.
    static func fail(_ failure: ClientFailure, _ options: ClientOptions) throws -> Never {
        failure.report(json: options.json)
        throw failure.exit
    }

    static func connect(_ options: ClientOptions) async throws(ClientFailure) -> TallyClient {
        let configuration = TallyClient.Configuration(
            clientName: "tally-cli",
            connectTimeout: options.timeoutDuration,
            requestTimeout: options.timeoutDuration
        )
        do {
            return try await TallyClient.connect(socketPath: options.socket, configuration: configuration)
        } catch {
            throw ClientFailure.client(error, socket: options.socket, connecting: true)
        }
    }
}
