import HVSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The time between hvagent's first FIFREEZE and its last FITHAW, process-wide
/// (docs/PROTOCOL.md §6.5.7, COMPATIBILITY.md V2).
///
/// While it is open nothing of hvagent may write to a disk filesystem, standard error or the
/// journal: a write to a frozen filesystem blocks until thaw, and the thaw is this process's own
/// work (hv_vss_daemon's syslog while frozen can deadlock it). The log handler appends rendered
/// lines here instead of writing them and the whole text is written when the window closes; KVP
/// refuses pool writes while it is open. Bounded: past ``capacity`` bytes further lines are
/// counted, not kept, and a line saying how many were dropped is flushed in their place.
public final class FreezeWindow: Sendable {
    public static let shared = FreezeWindow()

    /// 4 MiB of log text: far more than a backup's few lines, small enough to keep pre-allocated.
    public let capacity: Int

    private struct State {
        var open = false
        var held: [UInt8] = []
        var dropped = 0
    }
    private let state: Mutex<State>

    public init(capacity: Int = 4 << 20) {
        self.capacity = capacity
        var initial = State()
        initial.held.reserveCapacity(64 << 10)
        state = Mutex(initial)
    }

    /// Whether hvagent has filesystems frozen (or is freezing them).
    public var isOpen: Bool { state.withLock { $0.open } }

    /// Opens the window: from now on log text is held.
    public func open() {
        state.withLock { $0.open = true }
    }

    /// Holds `text` if the window is open; false when it is closed and the caller should write.
    public func hold(_ text: some StringProtocol) -> Bool {
        state.withLock { state in
            guard state.open else { return false }
            let bytes = text.utf8
            if state.held.count + bytes.count <= capacity {
                state.held.append(contentsOf: bytes)
            } else {
                state.dropped += 1
            }
            return true
        }
    }

    /// Closes the window and returns the held text (with a line for dropped records) for the
    /// caller to write: standard error is written by whoever closes, after the last FITHAW.
    public func close() -> [UInt8] {
        state.withLock { state in
            state.open = false
            var text = state.held
            if state.dropped > 0 { text += Array("hvagent: \(state.dropped) log record(s) dropped while filesystems were frozen\n".utf8) }
            state.held.removeAll(keepingCapacity: true)
            state.dropped = 0
            return text
        }
    }

    /// Closes the window and writes the held text to `descriptor` (standard error): called after
    /// the last FITHAW, so the write cannot block on hvagent's own freeze.
    public func closeAndFlush(to descriptor: Int32 = 2) {
        let text = close()
        text.withUnsafeBytes { raw in
            var rest = raw
            while !rest.isEmpty {
                let n = retryingOnInterrupt { write(descriptor, rest.baseAddress, rest.count) }
                if n <= 0 { return }
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            }
        }
    }
}
