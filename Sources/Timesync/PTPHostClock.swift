import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// Reads host time where the kernel keeps it in kernel mode: hv_utils registers the host's time
/// samples as a PTP clock named "hyperv" (`/dev/ptpN`), whose only working operation is gettime
/// (host time extrapolated by the reference counter; -ESTALE after 600 s without a sample).
public protocol HostTimeReading: AnyObject {
    /// Host time now, Unix nanoseconds.
    func hostNanoseconds() throws(SystemCallError) -> Int64
}

public final class PTPHostClock: HostTimeReading {
    public let devicePath: String
    private let descriptor: Int32

    /// Finds the PTP clock whose `clock_name` is "hyperv" under `sysfsRoot`/class/ptp.
    public static func findHyperV(sysfsRoot: String = "/sys", devRoot: String = "/dev") -> String? {
        guard let dir = opendir(sysfsRoot + "/class/ptp") else { return nil }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard name.hasPrefix("ptp"), let f = fopen("\(sysfsRoot)/class/ptp/\(name)/clock_name", "r") else { continue }
            var buffer = [CChar](repeating: 0, count: 64)
            let line = fgets(&buffer, 64, f).map { _ in String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) } ?? ""
            fclose(f)
            if line.trimmingCharacters(in: " \n") == "hyperv" { return "\(devRoot)/\(name)" }
        }
        return nil
    }

    public init(devicePath: String) throws(SystemCallError) {
        let fd = retryingOnInterrupt { open(devicePath, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemCallError(call: "open", path: devicePath, errno: .current) }
        self.devicePath = devicePath
        self.descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// - Throws: ESTALE when the host sent no time sample for 600 s.
    public func hostNanoseconds() throws(SystemCallError) -> Int64 {
        // FD_TO_CLOCKID: a dynamic POSIX clock is addressed through its open descriptor.
        let clock = clockid_t((~descriptor << 3) | 3)
        var ts = timespec()
        guard clock_gettime(clock, &ts) == 0 else {
            throw SystemCallError(call: "clock_gettime", path: devicePath, errno: .current)
        }
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
