import HVSystem
import CHVSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (a FREEZE's hooks and ioctls) on a thread of its own and hands the result
/// back to the agent's loop through an eventfd, so the loop keeps answering heartbeats and KVP
/// while a FIFREEZE syncs (ARCHITECTURE.md, "One event loop": nothing blocks it).
///
/// One job at a time is all VSS needs (the host has one transaction outstanding); the caller
/// checks ``isBusy``.
final class OffLoopWork<Result: Sendable>: @unchecked Sendable {
    /// Readable when a result is waiting; watched by the loop.
    let descriptor: Int32
    private let finished = Mutex<[Result]>([])
    private let running = Atomic<Bool>(false)

    init() throws(VSSError) {
        descriptor = chv_eventfd(1)
        guard descriptor >= 0 else { throw SystemCallError(call: "eventfd", errno: .current) }
    }

    deinit {
        close(descriptor)
    }

    var isBusy: Bool { running.load(ordering: .acquiring) }

    /// Starts `job` on a new thread; false if one is still running or no thread could be made.
    func start(_ job: @escaping @Sendable () -> Result) -> Bool {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
        guard DetachedThread.start({ self.deliver(job()) }) else {
            running.store(false, ordering: .releasing)
            return false
        }
        return true
    }

    /// Results finished since the last call (loop thread, when ``descriptor`` is readable).
    func collect() -> [Result] {
        var count: UInt64 = 0
        _ = read(descriptor, &count, 8)
        return finished.withLock { results in
            defer { results.removeAll() }
            return results
        }
    }

    /// Waits (blocking) until the running job, if any, has finished; for stop paths.
    func waitIdle() {
        while isBusy { usleep(5_000) }
    }

    fileprivate func deliver(_ result: Result) {
        finished.withLock { $0.append(result) }
        running.store(false, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(descriptor, &one, 8)
    }
}

/// A detached pthread running one closure (FoundationEssentials has no Thread).
enum DetachedThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    static func start(_ run: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Body(run)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        guard created == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            return false
        }
        pthread_detach(thread)
        return true
    }
}

/// A failed system call of the VSS service (the one errno type, ``SystemCallError``).
public typealias VSSError = SystemCallError
