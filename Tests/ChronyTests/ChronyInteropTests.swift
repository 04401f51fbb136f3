import AgentCore
import TestSupport
import Foundation
import HostSimulator
import Testing
import Timesync
import HVSystem
#if canImport(Glibc)
import Glibc
#endif

/// Reads the machine's clocks; any attempt to change them fails the test. Chrony mode must
/// never touch the clock itself (chronyd, started with -x, does not either).
final class ReadOnlySystemClock: GuestClock, @unchecked Sendable {
    private let source = SystemTimeSource()
    func realtimeNanoseconds() -> Int64 { source.trueNanoseconds() }
    func monotonicNanoseconds() -> Int64 { source.monotonicNanoseconds() }
    func step(byNanoseconds delta: Int64) throws {
        Issue.record("chrony mode tried to step the clock by \(delta) ns")
    }
    func setFrequencyCorrection(ppm: Double) throws {
        Issue.record("chrony mode tried to set the frequency to \(ppm) ppm")
    }
}

enum ChronyEnvironment {
    static let chronyd = "/usr/sbin/chronyd"
    static let chronyc = "/usr/bin/chronyc"
    /// chronyd needs root (it drops privileges itself); CI runs as root.
    static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: chronyd)
            && FileManager.default.isExecutableFile(atPath: chronyc)
    }
    static func run(_ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chronyc)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite(.serialized) struct ChronyInteropTests {
    /// Debian's chronyd, with a private configuration (no NTP port, private command socket,
    /// `-x`: never touches the clock), reads hvagent's SOCK refclock; the host is 250 ms ahead
    /// of this machine's clock, so chronyd must select the refclock and see the system clock
    /// 250 ms slow.
    @Test(.enabled(if: ChronyEnvironment.available, "needs root and Debian's chrony (scripts/setup.sh installs it)"))
    func chronydSelectsTheRefclockWithTheImpliedOffset() throws {
        let directory = "/tmp/hvagent-chrony-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let refclock = directory + "/refclock.sock"
        let command = directory + "/chronyd.sock"
        let configuration = """
            refclock SOCK \(refclock) refid HYPV poll 0 filter 4 precision 1e-6
            bindcmdaddress \(command)
            cmdport 0
            port 0
            pidfile \(directory)/chronyd.pid
            driftfile \(directory)/drift

            """
        try configuration.write(toFile: directory + "/chrony.conf", atomically: true, encoding: .utf8)
        let chronyd = Process()
        chronyd.executableURL = URL(fileURLWithPath: ChronyEnvironment.chronyd)
        chronyd.arguments = ["-x", "-d", "-f", directory + "/chrony.conf", "-u", "root"]
        chronyd.standardOutput = FileHandle.nullDevice
        chronyd.standardError = FileHandle.nullDevice
        try chronyd.run()
        defer {
            // chronyd may inherit a signal mask that blocks SIGTERM; SIGKILL after 2 s.
            chronyd.terminate()
            let exitDeadline = Date().addingTimeInterval(2)
            while chronyd.isRunning && Date() < exitDeadline { usleep(20_000) }
            if chronyd.isRunning { kill(chronyd.processIdentifier, SIGKILL) }
            chronyd.waitUntilExit()
        }
        let socketDeadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: refclock) && Date() < socketDeadline { usleep(20_000) }
        #expect(FileManager.default.fileExists(atPath: refclock))

        let harness = try SimHarness(
            configure: {
                $0.services = [.timesync]
                $0.timesyncInterval = 0.1
                $0.hostClockOffsetNanoseconds = 250_000_000
            },
            clock: ReadOnlySystemClock(), timesyncMode: .chrony, chrony: try ChronySocketSender(path: refclock))
        defer { harness.stop() }
        try harness.host.offerAll()
        var sources = ""
        let selected = try harness.host.run(timeout: 20) {
            sources = ChronyEnvironment.run(["-h", command, "-c", "sources"])
            return sources.split(separator: "\n").contains { $0.hasPrefix("#,*,HYPV,") }
        }
        #expect(selected, "chronyc sources: \(sources)")
        let tracking = ChronyEnvironment.run(["-h", command, "tracking"])
        let line = tracking.split(separator: "\n").first { $0.hasPrefix("System time") } ?? ""
        // "System time     : 0.250012345 seconds slow of NTP time"
        let fields = line.split(separator: " ")
        let seconds = fields.count > 3 ? Double(fields[3]) : nil
        #expect(line.hasSuffix("slow of NTP time"), "tracking: \(tracking)")
        #expect(abs((seconds ?? 0) - 0.25) < 0.005, "tracking: \(tracking)")
        #expect(harness.host.timesyncReplies > 10)
    }
}
