import Foundation
import TestSupport
import Testing

/// `hvagent demo` (the README's first command) with its KVP part, as a separate process.
@Suite struct DemoKVPTests {
    @Test(.enabled(if: AgentProcesses.built, "hvagent binary not built"))
    func demoShowsTheHostReadingKVPAndCleansUp() throws {
        let demo = Process()
        demo.executableURL = URL(fileURLWithPath: AgentProcesses.hvagent)
        demo.arguments = ["demo", "--seconds", "3"]
        let output = Pipe()
        demo.standardOutput = output
        demo.standardError = FileHandle.nullDevice
        try demo.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        demo.waitUntilExit()
        #expect(demo.terminationStatus == 0, "demo output: \(text)")
        #expect(text.contains("kvp: negotiated framework 3.0, service 4.0"))
        #expect(text.contains("kvp set --pool guest hvagent-demo"))
        #expect(text.contains("kvp: host read the guest's key back intact"))
        // The auto pool walk, or the note that this machine has no network facts.
        #expect(text.contains("pool 2: IntegrationServicesVersion = 3.1") || text.contains("auto pool walk skipped"))
        #expect(!text.contains("/var/lib/hyperv"))
        // The backup: a real freeze and thaw of the demo's own loop image (root with the tools), or
        // the labelled dry run; never a freeze of anything else.
        if text.contains("vss: DRY RUN") {
            #expect(text.contains("no filesystem is frozen"))
        } else {
            #expect(text.contains("loop-mounted at /tmp/hvagent-demo-vss-"), "demo output: \(text)")
            #expect(text.contains("vss: backup done (HOT_BACKUP HV_S_OK, FREEZE HV_S_OK, THAW HV_S_OK), nothing left frozen"))
        }
        // The temporary pool directory is gone.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())
            .filter { $0.hasPrefix("hvagent-demo-\(demo.processIdentifier)-") }
        #expect(leftovers.isEmpty)
    }
}
