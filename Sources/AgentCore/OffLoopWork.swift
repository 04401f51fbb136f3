import HVSystem
import CHVSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (a VSS FREEZE's hooks and ioctls, a SET_IP_INFO waiting for the network) on
/// a thread of its own and hands the result back to the agent's loop through an eventfd, so the
/// loop keeps answering heartbeats and KVP meanwhile (ARCHITECTURE.md, "One event loop": nothing
/// blocks it). A thread, not a Swift task: the work blocks, and must not wait for (or starve) a
/// shared pool.
///
/// One job at a time is all a service needs (the host has one transaction outstanding); the
/// caller checks ``isBusy``.
public final class OffLoopWork<Result: Sendable>: @unchecked Sendable {
    /// Readable when a result is waiting; watched by the loop.
    public let descriptor: Int32
    private let finished = Mutex<[Result]>([])
    private let running = Atomic<Bool>(false)

    public init() throws(SystemCallError) {
        descriptor = chv_eventfd(1)
        guard descriptor >= 0 else { throw SystemCallError(call: "eventfd", errno: .current) }
    }

    deinit {
        close(descriptor)
    }

    public var isBusy: Bool { running.load(ordering: .acquiring) }

    /// Starts `job` on a new thread; false if one is still running or no thread could be made.
    public func start(_ job: @escaping @Sendable () -> Result) -> Bool {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
        guard DetachedThread.start({ self.deliver(job()) }) else {
            running.store(false, ordering: .releasing)
            return false
        }
        return true
    }

    /// Results finished since the last call (loop thread, when ``descriptor`` is readable).
    public func collect() -> [Result] {
        var count: UInt64 = 0
        _ = read(descriptor, &count, 8)
        return finished.withLock { results in
            defer { results.removeAll() }
            return results
        }
    }

    /// Waits (blocking) until the running job, if any, has finished; for stop paths.
    public func waitIdle() {
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
public enum DetachedThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    public static func start(_ run: @escaping @Sendable () -> Void) -> Bool {
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
