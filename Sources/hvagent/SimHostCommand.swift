import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import HostSimulator
import HVSystem
import ICFramework
import SimTransport
import Synchronization
import Timesync

/// `hvagent sim-host`: the simulated Hyper-V host as its own process.
struct SimHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim-host",
        abstract: "Run the simulated Hyper-V host on a Unix socket; `hvagent run --sim-socket` connects to it.",
        discussion: "Every exchange is written as a JSON line (to --log, or to standard output).")

    @Option(help: "Unix socket to listen on.")
    var socket: String

    @Option(help: "Seconds between heartbeat requests.")
    var heartbeatInterval: Double = 2

    @Option(help: "Seconds between timesync samples.")
    var timesyncInterval: Double = 5

    @Option(help: "Timesync protocol offered: 4 (with reference time) or 3.")
    var timesyncVersion: Int = 4

    @Option(help: "Stop after this many seconds (0: when the agent disconnects).")
    var seconds: Double = 0

    @Option(help: "Send a shutdown request with these flags after --shutdown-after seconds.")
    var shutdownFlags: UInt32?

    @Option(help: "Seconds after start for the shutdown request.")
    var shutdownAfter: Double = 10

    @Option(help: "Walk KVP pools 2 (auto) and 1 (guest) with ENUMERATE this many seconds after start (exchanges go to the log).")
    var kvpEnumerateAfter: Double?

    @Option(help: "Write the JSON-lines exchange log here instead of standard output.")
    var log: String?

    @Flag(help: "When the agent disconnects (or is killed), wait for it to connect again and start over, until --seconds.")
    var acceptReconnect = false

    @Option(help: ArgumentHelp("Host time is this machine's CLOCK_REALTIME at start plus SECONDS, then runs on CLOCK_MONOTONIC_RAW, so an agent that steps or slews this machine's clock does not move the host's (logged as a host \"clock\" record).", valueName: "seconds"))
    var hostClockOffset: Double?

    @Option(help: ArgumentHelp("SET this KVP record once KVP has negotiated (repeatable; pool 0 is the host-to-guest pool).", valueName: "pool:key=value"))
    var kvpSet: [String] = []

    @Flag(help: "On SIGUSR1, walk KVP pools 2 (auto) and 1 (guest) with ENUMERATE (exchanges go to the log).")
    var kvpWalkOnSignal = false

    @Option(help: ArgumentHelp("Copy-VMFile this host file to the guest path once file copy has negotiated (repeatable; the guest serves it only under fcopy.allowed_roots).", valueName: "file=guest-path"))
    var copyFile: [String] = []

    @Flag(help: "Copy-VMFile with OVER_WRITE and CREATE_PATH set.")
    var copyForce = false

    @Option(help: ArgumentHelp("Offer only file copy, run this Copy-VMFile script once it has negotiated (JSON lines, `FileCopyScript` in Sources/HostSimulator/FileCopyScript.swift), write one JSON line per step to --fcopy-results and exit.", valueName: "file"))
    var fcopyScript: String?

    @Option(help: ArgumentHelp("Where --fcopy-script writes its outcomes (default: standard error).", valueName: "file"))
    var fcopyResults: String?

    @Option(help: "Seconds to wait for each file-copy reply of --fcopy-script.")
    var fcopyTimeout: Double = 10

    @Option(help: ArgumentHelp("Run this SET_IP_INFO / GET_IP_INFO script once KVP has negotiated, and again (the file read anew) on each SIGUSR2, serving every service meanwhile (JSON lines, `IPInjectionScript` in Sources/HostSimulator/IPInjectionScript.swift); one JSON line per step to --ip-results.", valueName: "file"))
    var ipScript: String?

    @Option(help: ArgumentHelp("Where --ip-script writes its outcomes (created or truncated at start; default: standard error).", valueName: "file"))
    var ipResults: String?

    @Option(help: "Seconds to wait for each SET_IP_INFO reply of --ip-script (the guest applies and verifies first).")
    var ipSetTimeout: Double = 30

    func validate() throws {
        guard timesyncVersion == 3 || timesyncVersion == 4 else { throw ValidationError("--timesync-version must be 3 or 4") }
        guard heartbeatInterval >= 0, timesyncInterval >= 0, seconds >= 0 else { throw ValidationError("intervals must be >= 0") }
        _ = try kvpSetRecords()
        _ = try fileCopies()
        _ = try script()
        _ = try ipInjectionScript()
    }

    /// `--fcopy-script`, parsed.
    private func script() throws -> FileCopyScript? {
        try Self.parse(fcopyScript, FileCopyScript.init(jsonLines:))
    }

    /// `--ip-script`, parsed (again for each SIGUSR2: the file may have changed).
    private func ipInjectionScript() throws -> IPInjectionScript? {
        try Self.parse(ipScript, IPInjectionScript.init(jsonLines:))
    }

    /// The script at `path` (nil when there is none), its read or parse error naming the file.
    private static func parse<Script>(_ path: String?, _ parser: (String) throws -> Script) throws -> Script? {
        guard let path else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        do {
            return try parser(String(decoding: data, as: UTF8.self))
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }

    /// `--copy-file file=guest-path`, read: the leaf name, the destination, the bytes.
    private func fileCopies() throws -> [HostFileCopy] {
        try copyFile.map { text in
            guard let equals = text.firstIndex(of: "="), text.startIndex < equals else {
                throw ValidationError("--copy-file wants file=guest-path, not '\(text)'")
            }
            let source = String(text[..<equals])
            guard let data = FileManager.default.contents(atPath: source) else { throw ValidationError("cannot read \(source)") }
            let leaf = source.split(separator: "/").last.map(String.init) ?? source
            return HostFileCopy(fileName: leaf, destination: String(text[text.index(after: equals)...]), data: [UInt8](data),
                                overwrite: copyForce, createPath: copyForce)
        }
    }

    /// `--kvp-set pool:key=value`, parsed.
    private func kvpSetRecords() throws -> [(pool: UInt8, key: String, value: String)] {
        try kvpSet.map { text in
            guard let colon = text.firstIndex(of: ":"), let pool = UInt8(text[..<colon]), pool <= 4,
                  let equals = text[colon...].firstIndex(of: "="), text.index(after: colon) < equals
            else { throw ValidationError("--kvp-set wants pool:key=value with pool 0...4, not '\(text)'") }
            return (pool, String(text[text.index(after: colon)..<equals]), String(text[text.index(after: equals)...]))
        }
    }

    func run() throws {
        let output = try Self.outputFile(log, otherwise: 1)
        defer { if output != 1 { close(output) } }
        var configuration = SimHostConfiguration()
        configuration.heartbeatInterval = heartbeatInterval
        configuration.timesyncInterval = timesyncInterval
        if timesyncVersion == 3 { configuration.offers[.timesync] = .timesyncV3 }
        if fcopyScript != nil { configuration.services = [.fcopy] }
        let freeClock = hostClockOffset.map { FreeRunningTimeSource(offsetNanoseconds: Int64(($0 * 1e9).rounded())) }
        if let freeClock { configuration.timeSource = freeClock }
        if kvpWalkOnSignal { signal(SIGUSR1) { _ in kvpWalkRequested.store(true, ordering: .relaxed) } }
        if ipScript != nil { signal(SIGUSR2) { _ in ipScriptRequested.store(true, ordering: .relaxed) } }
        let ipOutput = try ipScript.map { _ in try Self.outputFile(ipResults, otherwise: 2) }
        defer { if let ipOutput, ipOutput != 2 { close(ipOutput) } }
        // Once per process, not per agent connection: a restarted agent is not sent the script again.
        var ipScriptPending = ipScript != nil
        let listener = try SimListener(path: socket)
        Self.printError("sim-host: listening on \(socket)")
        let log = ExchangeLog(output: output)
        if let freeClock {
            log.record(channel: "host", event: "clock", detail: freeClock.description)
        }
        // Monotonic: the agent may step this machine's clock (the VM test's discipline check).
        let start = ContinuousClock.now
        var connections = 0
        var protocolErrors: [String] = []
        repeat {
            let left = seconds > 0 ? seconds - Self.secondsSince(start) : -1
            if seconds > 0 && left <= 0 { break }
            guard let connection = try listener.accept(timeoutMilliseconds: seconds > 0 ? Int32(left * 1000) : -1) else { break }
            connections += 1
            log.record(channel: "host", event: "connect", detail: "agent connection \(connections)")
            let host = SimulatedHyperVHost(endpoint: SimHostEndpoint(socket: connection), configuration: configuration, log: log)
            try serve(host, start: start, ipOutput: ipOutput, ipScriptPending: &ipScriptPending)
            protocolErrors += host.protocolErrors
        } while acceptReconnect
        if !protocolErrors.isEmpty {
            Self.printError("sim-host: protocol errors: \(protocolErrors)")
            throw ExitCode.failure
        }
    }

    /// Offers every service on one agent connection and runs until it ends or --seconds pass.
    private func serve(_ host: SimulatedHyperVHost, start: ContinuousClock.Instant, ipOutput: Int32?,
                       ipScriptPending: inout Bool) throws {
        try host.offerAll()
        var shutdownSent = false
        var kvpDone = false
        var kvpSetDone = false
        var copiesDone = copyFile.isEmpty
        let script = try script()
        while host.agentConnected {
            let elapsed = Self.secondsSince(start)
            if seconds > 0 && elapsed >= seconds { break }
            if let flags = shutdownFlags, !shutdownSent, elapsed >= shutdownAfter, host.isReady(.shutdown) {
                try host.requestShutdown(flags: flags, message: "sim-host scheduled shutdown")
                shutdownSent = true
            }
            if let after = kvpEnumerateAfter, !kvpDone, elapsed >= after, host.isReady(.kvp) {
                for pool: UInt8 in [2, 1] { _ = try host.kvpEnumerate(pool: pool) }
                kvpDone = true
            }
            if !kvpSetDone, !kvpSet.isEmpty, host.isReady(.kvp) {
                for record in try kvpSetRecords() { _ = try host.kvpSet(pool: record.pool, key: record.key, value: record.value) }
                kvpSetDone = true
            }
            if !copiesDone, host.isReady(.fcopy) {
                for copy in try fileCopies() {
                    let result = try host.copyVMFile(copy)
                    Self.printError("sim-host: Copy-VMFile \(copy.fileName) (\(copy.data.count) bytes) -> \(copy.destination): \(result.status)")
                }
                copiesDone = true
            }
            if let script, host.isReady(.fcopy) {
                try runScript(script, on: host)
                return
            }
            if let ipOutput, host.isReady(.kvp), ipScriptPending || ipScriptRequested.exchange(false, ordering: .relaxed) {
                ipScriptPending = false
                runIPScript(on: host, output: ipOutput)
            }
            if kvpWalkRequested.exchange(false, ordering: .relaxed) {
                if host.isReady(.kvp) {
                    for pool: UInt8 in [2, 1] { _ = try host.kvpEnumerate(pool: pool) }
                } else {
                    Self.printError("sim-host: SIGUSR1: KVP has not negotiated; no walk")
                }
            }
            try host.pump(timeoutMilliseconds: 100)
        }
    }

    /// Runs `--fcopy-script`, one JSON line per step to `--fcopy-results` (written as they come, so
    /// a guest that dies mid-script still leaves the steps before).
    private func runScript(_ script: FileCopyScript, on host: SimulatedHyperVHost) throws {
        let output = try Self.outputFile(fcopyResults, otherwise: 2)
        defer { if output != 2 { close(output) } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try host.runFileCopyScript(script, timeout: fcopyTimeout) { outcome in
            guard var line = try? encoder.encode(outcome) else { return }
            line.append(0x0a)
            line.withUnsafeBytes { _ = write(output, $0.baseAddress, $0.count) }
        }
    }

    /// Runs `--ip-script` as the file is now, one JSON line per step (written as they come). A
    /// script that no longer parses is one `{"error": …}` line; the host goes on serving.
    private func runIPScript(on host: SimulatedHyperVHost, output: Int32) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func emit(_ line: Data) {
            var line = line
            line.append(0x0a)
            line.withUnsafeBytes { _ = write(output, $0.baseAddress, $0.count) }
        }
        do {
            guard let script = try ipInjectionScript() else { return }
            try host.runIPInjectionScript(script, setTimeout: ipSetTimeout) { outcome in
                if let line = try? encoder.encode(outcome) { emit(line) }
            }
        } catch {
            if let line = try? encoder.encode(["error": "\(error)"]) { emit(line) }
        }
    }

    /// `path` opened for writing (created or truncated), or `standard` when there is none.
    private static func outputFile(_ path: String?, otherwise standard: Int32) throws -> Int32 {
        guard let path else { return standard }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))") }
        return descriptor
    }

    private static func secondsSince(_ start: ContinuousClock.Instant) -> Double {
        let elapsed = start.duration(to: .now).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }

    private static func printError(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// Set by SIGUSR1 (`--kvp-walk-on-signal`), taken by the serve loop.
private let kvpWalkRequested = Atomic<Bool>(false)
/// Set by SIGUSR2 (`--ip-script`), taken by the serve loop.
private let ipScriptRequested = Atomic<Bool>(false)

