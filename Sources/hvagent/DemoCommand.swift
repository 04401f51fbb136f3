import AgentDaemon
import ArgumentParser
import Logging

/// `hvagent demo`: the simulated Hyper-V host and the agent in one process, with a live timeline
/// (``Demo``).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the agent against the built-in simulated Hyper-V host and show the exchange.")

    @Option(help: "Stop after this many seconds (the shutdown request comes 2 s before the end).")
    var seconds: Double = 20

    @Option(help: "Initial error of the simulated guest clock, milliseconds.")
    var clockOffsetMs: Double = -2500

    @Option(help: "Drift of the simulated guest clock, ppm.")
    var driftPpm: Double = 100

    func validate() throws {
        guard seconds >= 3 else { throw ValidationError("--seconds must be at least 3") }
    }

    func run() throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        guard try Demo.run(seconds: seconds, clockOffsetMilliseconds: clockOffsetMs, driftPPM: driftPpm) else {
            throw ExitCode.failure
        }
    }
}
