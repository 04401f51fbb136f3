import Synchronization
import VSS
#if canImport(Glibc)
import Glibc
#endif

/// A freezer that freezes nothing real: it keeps which mount points are "frozen" and the calls in
/// order, and answers as the kernel would (EBUSY when frozen already, EINVAL when not frozen).
public final class RecordingFreezer: FilesystemFreezer, @unchecked Sendable {
    private let state = Mutex<(frozen: Set<String>, calls: [String])>(([], []))

    public init() {}

    public var calls: [String] { state.withLock { $0.calls } }
    public var frozen: Set<String> { state.withLock { $0.frozen } }

    public func freeze(_ mountPoint: String) -> FreezeResult {
        state.withLock { state in
            state.calls.append("freeze \(mountPoint)")
            return state.frozen.insert(mountPoint).inserted ? .frozen : .alreadyFrozen
        }
    }

    public func thaw(_ mountPoint: String) -> ThawResult {
        state.withLock { state in
            state.calls.append("thaw \(mountPoint)")
            return state.frozen.remove(mountPoint) != nil ? .thawed : .notFrozen
        }
    }
}
