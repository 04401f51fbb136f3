import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// Moves an integration-service device between its kernel driver and uio_hv_generic (docs/PROTOCOL.md §3.1).
///
/// Bind: register the class with uio_hv_generic (`new_id`; EEXIST is fine), unbind the device from
/// its current driver, bind it to uio_hv_generic, then wait for the uio node (the `uio/uioN` entry can
/// appear after the bind returns: the probe race of docs/PROTOCOL.md §8 Q23). Release does the reverse and hands
/// the device back to hv_utils (`hv_util` on older kernels). Every step is a write through
/// ``SysfsAccess``, so the sequence is testable and nothing else touches sysfs.
public struct UIOBinder {
    public let sysfs: any SysfsAccess
    /// How long to wait for the uio node after binding, in 10 ms steps.
    public var probeRetries: Int = 50
    /// Sleeps between probe retries (injected so tests do not wait).
    public var sleep: (UInt32) -> Void = { usleep($0) }

    public static let uioDriver = "uio_hv_generic"
    static let driversPath = "/sys/bus/vmbus/drivers"

    public init(sysfs: any SysfsAccess) {
        self.sysfs = sysfs
    }

    public enum BindError: Error, Equatable, CustomStringConvertible {
        /// uio_hv_generic is not loaded (`modprobe uio_hv_generic`).
        case uioDriverMissing
        /// A sysfs write failed.
        case write(SystemCallError)
        /// After binding, the device is bound to another driver (or none).
        case notBound(driver: String?)
        /// The uio node did not appear in time.
        case noUIONode
        /// No kernel driver to hand the device back to.
        case kernelDriverMissing

        public var description: String {
            switch self {
            case .uioDriverMissing: "uio_hv_generic is not loaded; run: modprobe uio_hv_generic"
            case .write(let e): e.description
            case .notBound(let d): "device is bound to \(d ?? "no driver") instead of \(UIOBinder.uioDriver)"
            case .noUIONode: "no uio node appeared after binding"
            case .kernelDriverMissing: "neither hv_utils nor hv_util is present to take the device back"
            }
        }
    }

    /// Binds `device` to uio_hv_generic and returns its uio node name (`uioN`). Does nothing but look
    /// the node up when the device is already bound to uio_hv_generic.
    public func bindToUIO(_ device: VMBusDevice) throws(BindError) -> String {
        let uioDir = "\(Self.driversPath)/\(Self.uioDriver)"
        guard sysfs.exists(uioDir) else { throw .uioDriverMissing }
        let instance = device.instanceID.description
        if device.driver != Self.uioDriver {
            do {
                try sysfs.write("\(uioDir)/new_id", device.classID.description)
            } catch where error.errno == .fileExists {
                // Already registered by an earlier run: fine.
            } catch {
                throw .write(error)
            }
            if let current = device.driver {
                do { try sysfs.write("\(Self.driversPath)/\(current)/unbind", instance) } catch { throw .write(error) }
            }
            do {
                try sysfs.write("\(uioDir)/bind", instance)
            } catch where error.errno == .resourceBusy || error.errno == .fileExists {
                // new_id raced us and probed the now unbound device: checked below.
            } catch {
                throw .write(error)
            }
        }
        let deviceDir = "\(VMBusDiscovery.devicesPath)/\(instance)"
        let bound = sysfs.linkTargetName("\(deviceDir)/driver")
        guard bound == Self.uioDriver else { throw .notBound(driver: bound) }
        for attempt in 0...probeRetries {
            if let node = sysfs.list("\(deviceDir)/uio").first(where: { $0.hasPrefix("uio") }) { return node }
            if attempt < probeRetries { sleep(10_000) }
        }
        throw .noUIONode
    }

    /// Hands `device` back to the kernel's integration-services driver and drops the class from
    /// uio_hv_generic's dynamic ids.
    public func releaseToKernel(_ device: VMBusDevice) throws(BindError) {
        let instance = device.instanceID.description
        guard let kernelDriver = ["hv_utils", "hv_util"].first(where: { sysfs.exists("\(Self.driversPath)/\($0)") }) else {
            throw .kernelDriverMissing
        }
        if device.driver == Self.uioDriver {
            do { try sysfs.write("\(Self.driversPath)/\(Self.uioDriver)/unbind", instance) } catch { throw .write(error) }
        }
        if device.driver != kernelDriver {
            do { try sysfs.write("\(Self.driversPath)/\(kernelDriver)/bind", instance) } catch { throw .write(error) }
        }
        do {
            try sysfs.write("\(Self.driversPath)/\(Self.uioDriver)/remove_id", device.classID.description)
        } catch where error.errno == .operationNotSupportedByDevice || error.errno == .noSuchFileOrDirectory {
            // Not registered (or already removed): nothing to undo.
        } catch {
            throw .write(error)
        }
    }
}
