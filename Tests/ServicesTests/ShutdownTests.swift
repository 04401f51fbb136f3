import ICFramework
import ShutdownSvc
import Testing
import HVProtocol

struct FakeHibernation: HibernationSupport {
    var systemCanHibernate: Bool
    var deviceBoundToUIO: Bool
}

func shutdownBody(reason: UInt32 = 0x8000_0000, timeout: UInt32 = 30, flags: UInt32, text: String = "") -> [UInt8] {
    var body: [UInt8] = []
    for value in [reason, timeout, flags] {
        body += [UInt8(value & 0xff), UInt8((value >> 8) & 0xff), UInt8((value >> 16) & 0xff), UInt8(value >> 24)]
    }
    var message = text.utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }
    message += [UInt8](repeating: 0, count: 2048 - message.count)
    return body + message
}

@Suite struct ShutdownTests {
    func endpoint(canHibernate: Bool = true, uio: Bool = false) -> ICEndpoint<ShutdownService> {
        ICEndpoint(service: ShutdownService(hibernation: FakeHibernation(systemCanHibernate: canHibernate, deviceBoundToUIO: uio)))
    }

    @Test(arguments: [
        (UInt32(0), ShutdownRequest.Kind?.some(.powerOff)), (1, .powerOff), (2, .reboot), (3, .reboot),
        (4, .hibernate), (5, .hibernate), (6, nil), (7, nil), (8, nil), (9, nil), (0x10, nil), (0xffff_ffff, nil),
    ])
    func everyFlagValue(flags: UInt32, expected: ShutdownRequest.Kind?) {
        var endpoint = endpoint()
        let body = shutdownBody(flags: flags, text: "Planned")
        let request = hostHeader(type: 3, version: (3, 2), bodySize: body.count) + body
        let outcome = endpoint.process(request)
        let status: UInt32 = expected == nil ? 0x8000_4005 : 0
        #expect(outcome.reply == replyHeader(request, status: status) + body)
        #expect(outcome.action?.kind == expected)
        if expected != nil {
            #expect(outcome.action == ShutdownRequest(kind: expected!, reasonCode: 0x8000_0000, timeoutSeconds: 30, message: "Planned"))
        }
    }

    @Test(arguments: [(false, false), (true, true), (false, true)])
    func hibernateRefusedWithoutSupportOrWithUIODevices(canHibernate: Bool, uio: Bool) {
        var endpoint = endpoint(canHibernate: canHibernate, uio: uio)
        for flags: UInt32 in [4, 5] {
            let body = shutdownBody(flags: flags)
            let request = hostHeader(type: 3, version: (3, 2), bodySize: body.count) + body
            let outcome = endpoint.process(request)
            #expect(outcome.reply == replyHeader(request, status: 0x8000_4005) + body)
            #expect(outcome.action == nil)
        }
    }

    @Test func displayMessageLosesControlCharacters() {
        let body = shutdownBody(flags: 0, text: "line1\nforged: root login\u{7}")
        #expect(ShutdownMessage.decode(body)?.displayText == "line1forged: root login")
    }

    @Test func shortBodyIsDroppedWithoutReply() {
        var endpoint = endpoint()
        let body = Array(shutdownBody(flags: 0).prefix(2059))
        let request = hostHeader(type: 3, version: (3, 2), bodySize: body.count) + body
        let outcome = endpoint.process(request)
        #expect(outcome.reply == nil)
        #expect(outcome.action == nil)
        #expect(endpoint.counters.dropped == 1)
    }

    @Test func sysfsHibernationReadsFiles() throws {
        let root = "/tmp/hvagent-test-sysfs-\(getpid())"
        defer { _ = try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/bus/vmbus/drivers/uio_hv_generic", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/power", withIntermediateDirectories: true)
        try "1\n".write(toFile: root + "/bus/vmbus/hibernation", atomically: true, encoding: .utf8)
        try "[platform] shutdown reboot suspend\n".write(toFile: root + "/power/disk", atomically: true, encoding: .utf8)
        let support = SysfsHibernationSupport(root: root)
        #expect(support.systemCanHibernate)
        #expect(!support.deviceBoundToUIO)
        try FileManager.default.createDirectory(
            atPath: root + "/bus/vmbus/drivers/uio_hv_generic/9527e630-d0ae-497b-adce-e80ab0175caf", withIntermediateDirectories: true)
        #expect(support.deviceBoundToUIO)
        try "shutdown reboot\n".write(toFile: root + "/power/disk", atomically: true, encoding: .utf8)
        #expect(!support.systemCanHibernate)
    }

    @Test func commandPerformerRunsTheKindAndReportsFailure() throws {
        // /bin/echo stands in for systemctl: it succeeds with the kind as its argument.
        try CommandShutdownPerformer(executable: "/bin/echo", wallExecutable: nil).perform(
            ShutdownRequest(kind: .reboot, reasonCode: 0, timeoutSeconds: 0, message: ""))
        #expect(throws: ShutdownPerformerError.commandFailed(command: "/bin/false poweroff", status: 1)) {
            try CommandShutdownPerformer(executable: "/bin/false", wallExecutable: nil).perform(
                ShutdownRequest(kind: .powerOff, reasonCode: 0, timeoutSeconds: 0, message: ""))
        }
    }
}

import Foundation

@Suite struct ShutdownHookTests {
    func makeHooks(_ scripts: [String: String]) throws -> String {
        let directory = NSTemporaryDirectory() + "hvagent-hooks-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, body) in scripts {
            try ("#!/bin/sh\n" + body + "\n").write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory + "/" + name)
        }
        return directory
    }

    @Test func hooksRunInOrderWithTheRequestInTheEnvironment() throws {
        let directory = try makeHooks([
            "10-first": "echo \"$HVAGENT_SHUTDOWN_KIND $HVAGENT_SHUTDOWN_REASON $HVAGENT_SHUTDOWN_MESSAGE\" >> \"$(dirname \"$0\")/out\"",
            "20-fails": "exit 3",
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "not executable".write(toFile: directory + "/30-plain", atomically: true, encoding: .utf8)
        let request = ShutdownRequest(kind: .reboot, reasonCode: 0x8000_0000, timeoutSeconds: 30, message: "maintenance")
        let results = ShutdownHookRunner(directory: directory).run(request, budgetSeconds: 10)
        #expect(results.map(\.name) == ["10-first", "20-fails"])
        #expect(results.map(\.status) == [0, 3])
        #expect(try String(contentsOfFile: directory + "/out", encoding: .utf8) == "reboot 0x80000000 maintenance\n")
    }

    @Test func hooksAreBoundedByTheHostTimeout() throws {
        let directory = try makeHooks(["10-slow": "sleep 30", "20-later": "exit 0"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let request = ShutdownRequest(kind: .powerOff, reasonCode: 0, timeoutSeconds: 2, message: "")
        #expect(ShutdownHookRunner.budget(for: request) == 1)
        let start = Date()
        let results = ShutdownHookRunner(directory: directory).run(request, budgetSeconds: ShutdownHookRunner.budget(for: request))
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(results == [
            ShutdownHookRunner.Result(name: "10-slow", status: nil, timedOut: true),
            ShutdownHookRunner.Result(name: "20-later", status: nil, timedOut: true),
        ])
    }

    @Test func wallMessageNamesTheRequest() {
        let request = ShutdownRequest(kind: .powerOff, reasonCode: 0, timeoutSeconds: 0, message: "host maintenance")
        #expect(CommandShutdownPerformer.wallMessage(for: request) == "The Hyper-V host requested poweroff of this machine: host maintenance")
    }
}
