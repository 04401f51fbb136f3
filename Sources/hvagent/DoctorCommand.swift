import AgentDaemon
import AgentConfig
import AgentDoctor
import ArgumentParser
import FoundationEssentials
import VMBusDiscovery

/// `hvagent doctor`: checks this VM's Hyper-V integration and says how to fix what is wrong.
/// Exits 1 when any finding is an error.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check Hyper-V integration on this VM and say how to fix problems."
    )

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Apply the fixes that are safe to apply automatically (initramfs modules).")
    var fix = false

    @Option(name: .shortAndLong, help: "The configuration file.")
    var file = AgentSettings.defaultPath

    func run() throws {
        let config: AgentSettings
        do {
            config = try AgentSettings.load(path: file)
        } catch {
            throw CommandFailure(error.description)
        }
        let doctor = Doctor(system: HostSystem(), sysfs: DirectorySysfs(root: "/"), config: config)
        var findings = doctor.run()
        if fix, findings.contains(where: { $0.id == "initramfs.modules" && $0.severity != .ok && $0.severity != .info }) {
            for line in try doctor.fixInitramfs() { findings.append(Finding("fix.initramfs", .info, line)) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let report = Report(hypervDetected: findings.first { $0.id == "hyperv.detected" }?.severity == .ok,
                                worst: findings.map(\.severity).max() ?? .ok, findings: findings)
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for f in findings {
                print("[\(f.severity.rawValue.uppercased().padding(7))] \(f.id): \(f.message)")
                if let fix = f.fix { print("          fix: \(fix)") }
            }
        }
        if findings.contains(where: { $0.severity == .error }) { throw ExitCode.failure }
    }

    struct Report: Encodable {
        var hypervDetected: Bool
        var worst: Finding.Severity
        var findings: [Finding]
        enum CodingKeys: String, CodingKey {
            case hypervDetected = "hyperv_detected", worst, findings
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
