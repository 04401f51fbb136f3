import Foundation
import IPInjection

/// A pretend kernel for IP injection tests: the state a probe reports and a backend changes.
public final class FakeIPKernel: IPStateProbe, @unchecked Sendable {
    private let lock = NSLock()
    private var state = ObservedIPState()
    private var reads = 0

    public init() {}

    public func observe(_ interface: InjectionInterface) -> ObservedIPState {
        lock.withLock { reads += 1; return state }
    }

    public var current: ObservedIPState {
        get { lock.withLock { state } }
        set { lock.withLock { state = newValue } }
    }

    public var observations: Int { lock.withLock { reads } }
}

/// A backend whose effect on a ``FakeIPKernel`` is scripted.
public final class FakeIPBackend: IPConfigurationBackend, @unchecked Sendable {
    public enum Behaviour: Sendable {
        case works, refuses, hasNoEffect, dropsGateways
        case worksAfter(Duration)
        /// As NetworkManager when activation fails: the interface loses its addresses; the undo
        /// brings the previous state back asynchronously after the delay (nil: never).
        case failsActivation(restoreAfter: Duration?)
    }

    public let kernel: FakeIPKernel
    public let behaviour: Behaviour
    private let lock = NSLock()
    private var appliedList: [(IPConfiguration, InjectionInterface)] = []
    private var undos = 0

    public init(_ kernel: FakeIPKernel, _ behaviour: Behaviour) {
        self.kernel = kernel
        self.behaviour = behaviour
    }

    public var name: String { "fake" }
    public var applied: [(IPConfiguration, InjectionInterface)] { lock.withLock { appliedList } }
    public var undone: Int { lock.withLock { undos } }

    struct Undo: IPConfigurationUndo {
        let backend: FakeIPBackend
        let previous: ObservedIPState
        func undo() throws(IPConfigurationError) {
            backend.lock.withLock { backend.undos += 1 }
            guard case let .failsActivation(restoreAfter) = backend.behaviour else {
                backend.kernel.current = previous
                return
            }
            guard let delay = restoreAfter else { return }
            let kernel = backend.kernel, previous = previous
            let (seconds, attoseconds) = delay.components
            DispatchQueue.global().asyncAfter(deadline: .now() + Double(seconds) + Double(attoseconds) / 1e18) { kernel.current = previous }
        }
    }

    public func apply(_ c: IPConfiguration, to i: InjectionInterface) throws(IPConfigurationError) -> any IPConfigurationUndo {
        lock.withLock { appliedList.append((c, i)) }
        let previous = kernel.current
        let full = ObservedIPState(addresses: Set(c.addresses), defaultGateways: Set(c.gateways))
        switch behaviour {
        case .works: kernel.current = full
        case .refuses: throw .failed("fake backend refused")
        case .hasNoEffect: break
        case .dropsGateways: kernel.current = ObservedIPState(addresses: Set(c.addresses))
        case .failsActivation: kernel.current = ObservedIPState()
        case let .worksAfter(delay):
            let kernel = self.kernel
            let (seconds, attoseconds) = delay.components
            DispatchQueue.global().asyncAfter(deadline: .now() + Double(seconds) + Double(attoseconds) / 1e18) { kernel.current = full }
        }
        return Undo(backend: self, previous: previous)
    }
}

/// `/sys/class/net` with two VMBus NICs (eth0 has ``guid``) and a directory for the compatibility
/// files, under a temporary root removed at deinit.
public final class FakeAdapterSysfs {
    public static let guid = "{f5bee29c-1741-4aad-a4c2-8fdedb46dcc2}"
    public static let mac = "00:15:5d:aa:bb:cc"
    public let root = NSTemporaryDirectory() + "ipinject-\(getpid())-\(UUID().uuidString)"
    public var sysfs: String { root + "/sysroot" }
    public var files: String { root + "/hyperv" }

    public init() throws {
        let net = sysfs + "/sys/class/net"
        for (name, id, mac, index) in [("eth0", Self.guid, Self.mac, 2),
                                       ("eth1", "{00000000-0000-0000-0000-000000000001}", "00:15:5d:00:00:01", 3)] {
            try FileManager.default.createDirectory(atPath: "\(net)/\(name)/device", withIntermediateDirectories: true)
            try "\(id)\n".write(toFile: "\(net)/\(name)/device/device_id", atomically: false, encoding: .utf8)
            try "\(mac)\n".write(toFile: "\(net)/\(name)/address", atomically: false, encoding: .utf8)
            try "\(index)\n".write(toFile: "\(net)/\(name)/ifindex", atomically: false, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    public func file(_ name: String) -> String? { try? String(contentsOfFile: files + "/" + name, encoding: .utf8) }

    public func injector(_ backend: any IPConfigurationBackend, _ probe: any IPStateProbe,
                         timeout: Duration = .seconds(2), restoreTimeout: Duration = .seconds(5)) -> IPInjector {
        IPInjector(backend: backend, probe: probe, locator: InterfaceLocator(root: sysfs),
                   policy: .init(verifyTimeout: timeout, pollInterval: .milliseconds(20), compatibilityDirectory: files,
                                 restoreTimeout: restoreTimeout))
    }
}
