import Foundation
import Testing
@testable import DaemonSupport

@Suite("Daemon plumbing")
struct DaemonSupportTests {
    @Test func notifierSendsDatagramsToNotifySocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(getpid()).sock").path
        unlink(path)
        let server = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(server); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000"])
        #expect(notifier.isActive)
        #expect(notifier.watchdogMicroseconds == 20_000_000)
        #expect(notifier.notify("READY=1\nSTATUS=4 services"))
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(server, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer[..<max(0, n)], as: UTF8.self) == "READY=1\nSTATUS=4 services")
    }

    @Test func notifierIsInertWithoutSystemd() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isActive)
        #expect(!notifier.notify("READY=1"))
        #expect(notifier.watchdogMicroseconds == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "100", "WATCHDOG_PID": "1"]).watchdogMicroseconds == nil || getpid() == 1)
    }

    @Test func ueventParsing() throws {
        let raw = Array("add@/devices/LNXSYSTM:00/VMBUS:00/242ff919-07db-4180-9c2e-b86cb68c8c55\0ACTION=add\0DEVPATH=/devices/LNXSYSTM:00/VMBUS:00/242ff919-07db-4180-9c2e-b86cb68c8c55\0SUBSYSTEM=vmbus\0MODALIAS=vmbus:e7f4a0a9455a964db8278a841e8c03e6\0SEQNUM=1234\0".utf8)
        let e = try #require(UEventMonitor.parse(raw))
        #expect(e.action == "add")
        #expect(e.subsystem == "vmbus")
        #expect(e.devicePath.hasSuffix("242ff919-07db-4180-9c2e-b86cb68c8c55"))
        #expect(e.properties["SEQNUM"] == "1234")
        #expect(UEventMonitor.parse(Array("libudev\0\0\0garbage".utf8)) == nil)
        #expect(UEventMonitor.parse([UInt8]()) == nil)
        #expect(UEventMonitor.parse([0, 0, 64]) == nil)
    }

    @Test func ueventSocketOpens() throws {
        let monitor = try UEventMonitor()
        #expect(monitor.descriptor >= 0)
        _ = monitor.drain() // non-blocking: returns at once
    }

    @Test func signalsArriveAsEvents() throws {
        let events = try SignalEvents([SIGUSR2])
        // Thread-directed: other test threads do not block SIGUSR2, a process signal could kill the run.
        pthread_kill(pthread_self(), SIGUSR2)
        var p = pollfd(fd: events.descriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 2000) == 1)
        #expect(events.drain() == [SIGUSR2])
        #expect(events.drain() == [])
    }
}
