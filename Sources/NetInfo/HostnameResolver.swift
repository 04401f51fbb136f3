import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The FullyQualifiedDomainName value: the canonical name of the host name, kept current when
/// the host name changes, and never computed on a host request's path.
///
/// hv_kvp_daemon resolves once at start-up, synchronously (a resolver stall delays its
/// registration), IPv4 only, and reports an error sentence when resolution fails (docs/COMPATIBILITY.md B5).
/// Here:
/// * `fqdn` returns the last known value at once (the plain host name until the first
///   resolution finishes, and whenever resolution fails);
/// * resolution runs on a short-lived thread started only when the host name changed;
///   a change during a resolution queues one more pass; nothing runs when nothing changes;
/// * changes are noticed through `/proc/sys/kernel/hostname`, which the kernel makes pollable
///   (POLLPRI/POLLERR after every sethostname) — `fileDescriptor`, -1 when unavailable.
public final class HostnameResolver: @unchecked Sendable {
    // @unchecked: all mutable state is inside `state`; the closures are @Sendable.
    public typealias Resolve = @Sendable (String) -> String?

    struct State {
        var hostname: String
        var fqdn: String
        var resolving = false
        var passes = 0
    }

    private let state: Mutex<State>
    private let resolve: Resolve
    private let currentHostname: @Sendable () -> String

    /// `/proc/sys/kernel/hostname`, opened for change notification. Poll for POLLPRI.
    public let fileDescriptor: Int32

    public init(resolve: @escaping Resolve = HostnameResolver.canonicalName, hostname: @escaping @Sendable () -> String = HostnameResolver.systemHostname) {
        self.resolve = resolve
        self.currentHostname = hostname
        let name = hostname()
        state = Mutex(State(hostname: name, fqdn: name))
        fileDescriptor = open("/proc/sys/kernel/hostname", O_RDONLY | O_CLOEXEC)
        startResolution()
    }

    deinit {
        if fileDescriptor >= 0 { close(fileDescriptor) }
    }

    /// The last known FQDN. Never blocks on name resolution.
    public var fqdn: String { state.withLock { $0.fqdn } }

    /// Whether a background resolution is running (tests wait for it to settle).
    public var isResolving: Bool { state.withLock { $0.resolving } }

    /// Completed resolution passes (tests).
    public var completedPasses: Int { state.withLock { $0.passes } }

    /// Call when `fileDescriptor` polls ready (or at any time): re-reads the host name and, if it
    /// changed, resolves the new one in the background.
    public func hostnameMayHaveChanged() {
        let name = currentHostname()
        let changed = state.withLock { s -> Bool in
            guard s.hostname != name else { return false }
            s.hostname = name
            return true
        }
        if changed { startResolution() }
    }

    private func startResolution() {
        let start = state.withLock { s -> Bool in
            if s.resolving { return false }  // the running pass re-checks the name when done
            s.resolving = true
            return true
        }
        guard start else { return }
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            guard let arg else { return nil }
            let resolver = Unmanaged<HostnameResolver>.fromOpaque(arg).takeRetainedValue()
            resolver.resolveUntilSettled()
            return nil
        }, box)
        if rc == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<HostnameResolver>.fromOpaque(box).release()
            state.withLock { $0.resolving = false }
        }
    }

    /// Runs on the worker thread: resolve, publish, repeat while the name moved meanwhile.
    private func resolveUntilSettled() {
        var name = state.withLock { $0.hostname }
        while true {
            let canonical = resolve(name) ?? name
            let next = state.withLock { s -> String? in
                s.passes += 1
                if s.hostname == name {
                    s.fqdn = canonical
                    s.resolving = false
                    return nil
                }
                return s.hostname
            }
            guard let next else { return }
            name = next
        }
    }

    /// gethostname(2).
    public static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// getaddrinfo(name, AI_CANONNAME) over both families; nil on failure or an empty name.
    public static func canonicalName(_ name: String) -> String? {
        guard !name.isEmpty else { return nil }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_CANONNAME
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0, let result else { return nil }
        defer { freeaddrinfo(result) }
        guard let canon = result.pointee.ai_canonname else { return nil }
        let text = String(cString: canon)
        return text.isEmpty ? nil : text
    }
}
