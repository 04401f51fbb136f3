import Foundation
import Heartbeat
import ProcessSupport
#if canImport(Glibc)
import Glibc
#endif

/// The event loop's part for probe tests: poll a descriptor, call its handler when readable.
enum ProbeLoop {
    /// Polls `descriptor` (50 ms at a time) and calls `handle` when it is readable, until `done`
    /// or `seconds` pass. Returns whether `done` became true.
    static func drive(_ descriptor: Int32, seconds: Double = 10, handle: () -> Void, until done: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !done() {
            guard Date() < deadline else { return false }
            if readable(descriptor, waitMilliseconds: 50) { handle() }
        }
        return true
    }

    /// The probe's answer once it has one (nil if none within `seconds`).
    static func answer(_ probe: some HealthProbe, seconds: Double = 10) -> ApplicationState? {
        var state: ApplicationState?
        _ = drive(probe.descriptor, seconds: seconds, handle: probe.handleReadable) {
            state = probe.applicationState()
            return state != nil
        }
        return state
    }

    /// The outcome of the child `process` runs.
    static func outcome(_ process: BackgroundProcess, seconds: Double = 10) -> BoundedProcess.Outcome? {
        var outcome: BoundedProcess.Outcome?
        _ = drive(process.descriptor, seconds: seconds, handle: { outcome = process.handleReadable() }) { outcome != nil }
        return outcome
    }

    static func readable(_ descriptor: Int32, waitMilliseconds: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let count = poll(&entry, 1, waitMilliseconds)
            if count >= 0 { return count > 0 }
            if errno != EINTR { return false }
        }
    }

    /// Processes whose command line contains `marker` (a zombie has none: see ``exists(_:)``).
    static func processes(containing marker: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  String(decoding: data, as: UTF8.self).contains(marker) else { return nil }
            return pid
        }
    }

    /// `pid` still exists, as a process or as a zombie nobody reaped.
    static func exists(_ pid: pid_t) -> Bool {
        FileManager.default.fileExists(atPath: "/proc/\(pid)")
    }
}

extension ProbeLoop {
    /// `pid` is running (it exists and is not a zombie).
    static func alive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// The parent of `pid` (field 4 of /proc/PID/stat), nil when it is gone.
    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    /// Descriptors open in this process.
    static var openDescriptors: Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }

    /// A command line no other test uses, to find the processes a test started.
    static func marker(_ name: String) -> String {
        "hvagent-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { return false }
            usleep(20_000)
        }
        return true
    }
}
