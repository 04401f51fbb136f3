import CHVSupport
import CProcessSupport
import HVSystem
#if canImport(Glibc)
import Glibc
#endif

/// One helper at a time whose end is an event-loop event instead of a wait.
///
/// Why: the daemon serves every channel from one poll loop, and a helper it waited for (as
/// ``BoundedProcess`` does) would stall heartbeat, timesync and KVP for as long as it runs. Here
/// the loop polls ``descriptor``, an ``EventSet`` created once that holds the running child's pidfd
/// and a timerfd armed for its deadline, and calls ``handleReadable()``, which reaps the child
/// without waiting and returns its outcome. At the deadline the child's process group gets
/// SIGTERM and the timer is re-armed for the grace second, then SIGKILL: nothing sleeps.
///
/// Kernels before 5.3 have no pidfd_open: the timer then ticks every 20 ms while a child runs, to
/// look for its end. Either way no timer is armed while no child runs, so an idle daemon is never
/// woken.
///
/// Not thread-safe: use it from one thread at a time (the owner's lock).
public final class BackgroundProcess {
    private struct Child {
        enum Phase {
            /// Before its deadline.
            case running
            /// Sent SIGTERM at the deadline; SIGKILL follows at `due`.
            case terminating
            /// Sent SIGKILL; only the reap is left.
            case killed
        }

        let pid: pid_t
        /// Readable when the child has ended; -1 when the kernel has no pidfd (the timer ticks).
        let pidfd: Int32
        var phase = Phase.running
        /// Monotonic nanoseconds when the phase ends (the deadline, then the end of the grace).
        var due: UInt64
        /// Killed because its owner no longer wants it: nobody is told its outcome.
        var cancelled = false
    }

    /// Polled by the event loop for reading; the same descriptor for the object's whole life.
    public var descriptor: Int32 { events.descriptor }
    /// A child is running, or was killed and is not reaped yet.
    public var isRunning: Bool { child != nil }

    private let events: EventSet
    private let timer: Int32
    private let usePidfd: Bool
    private var child: Child?

    /// Look for a child's end this often when there is no pidfd.
    static let tickMicroseconds: UInt64 = 20_000

    /// nil when the descriptors cannot be created (errno says why).
    public convenience init?() {
        self.init(usePidfd: true)
    }

    /// `usePidfd: false` behaves as on a kernel without pidfd_open (for tests).
    init?(usePidfd: Bool) {
        guard let events = EventSet() else { return nil }
        let timer = chv_timerfd()
        guard timer >= 0 else { return nil }
        guard events.watch(timer) else {
            close(timer)
            return nil
        }
        self.events = events
        self.timer = timer
        self.usePidfd = usePidfd
    }

    /// A child still running is killed and reaped here, the one wait this type does: after
    /// SIGKILL it lasts only as long as the kernel takes to tear the process down. Owners that
    /// must not wait at all call ``cancel()`` and keep polling until ``isRunning`` is false.
    deinit {
        if let child {
            kill(-child.pid, SIGKILL)
            _ = ChildSpawn.reap(child.pid, block: true)
            if child.pidfd >= 0 { close(child.pidfd) }
        }
        close(timer)
    }

    /// Starts `path` with `arguments` as ``BoundedProcess/run(path:arguments:environment:deadline:inheritOutput:)``
    /// does (output to /dev/null, and no ETXTBSY retries: they would sleep), to be killed after
    /// `timeoutSeconds`. Returns `.failedToStart` at once when it cannot start (EBUSY while
    /// another child runs); nil when it runs: its outcome then comes from ``handleReadable()``.
    public func start(path: String, arguments: [String] = [], environment: [String: String]? = nil,
                      timeoutSeconds: Double) -> BoundedProcess.Outcome? {
        guard child == nil else { return .failedToStart(EBUSY) }
        let now = Self.monotonicNanoseconds()
        let pid: pid_t
        switch ChildSpawn.spawn(path: path, arguments: arguments, environment: environment, inheritOutput: false,
                                retryWhileBusy: false) {
        case .success(let started): pid = started
        case .failure(let failure): return .failedToStart(failure.errno)
        }
        var pidfd: Int32 = usePidfd ? cprocess_pidfd_open(pid) : -1
        if pidfd >= 0 && !events.watch(pidfd) {
            close(pidfd)
            pidfd = -1
        }
        child = Child(pid: pid, pidfd: pidfd, due: now + Self.nanoseconds(timeoutSeconds))
        schedule()
        return nil
    }

    /// Call when ``descriptor`` is readable: reaps the child if it has ended (its outcome; a child
    /// killed at its deadline is `.timedOut`), or moves a child past its deadline on (SIGTERM to
    /// its group, then SIGKILL after the grace). nil while the child runs, and for a cancelled one.
    public func handleReadable() -> BoundedProcess.Outcome? {
        var expirations: UInt64 = 0
        _ = read(timer, &expirations, 8)
        guard var running = child else { return nil }
        if let reaped = ChildSpawn.reap(running.pid, block: false) {
            finish()
            if running.phase != .running { kill(-running.pid, SIGKILL) }  // stragglers left in the group
            if running.cancelled { return nil }
            return running.phase == .running ? BoundedProcess.outcome(reaped) : .timedOut
        }
        let now = Self.monotonicNanoseconds()
        if now >= running.due {
            switch running.phase {
            case .running:
                kill(-running.pid, SIGTERM)
                running.phase = .terminating
                running.due = now + Self.nanoseconds(BoundedProcess.graceSeconds)
            case .terminating:
                kill(-running.pid, SIGKILL)
                running.phase = .killed
                running.due = .max
            case .killed:
                break
            }
            child = running
        }
        schedule()
        return nil
    }

    /// Kills the running child's group now (SIGKILL) without waiting: it is reaped by a later
    /// ``handleReadable()``, which reports nothing for it.
    public func cancel() {
        guard var running = child else { return }
        kill(-running.pid, SIGKILL)
        running.phase = .killed
        running.due = .max
        running.cancelled = true
        child = running
        schedule()
    }

    /// Arms the timer for what the child waits for next: its deadline or the end of the grace with
    /// a pidfd (the pidfd reports its end), the next tick without one, nothing once it is reaped.
    private func schedule() {
        guard let child else {
            _ = chv_timerfd_set(timer, 0, 0)
            return
        }
        if child.pidfd < 0 {
            _ = chv_timerfd_set(timer, Self.tickMicroseconds, Self.tickMicroseconds)
        } else if child.due == .max {
            _ = chv_timerfd_set(timer, 0, 0)
        } else {
            let now = Self.monotonicNanoseconds()
            // Rounded up (and at least 1 µs: 0 would disarm), so it never fires before `due`.
            let remaining = child.due > now ? (child.due - now + 999) / 1000 : 1
            _ = chv_timerfd_set(timer, max(remaining, 1), 0)
        }
    }

    private func finish() {
        if let child, child.pidfd >= 0 {
            events.unwatch(child.pidfd)
            close(child.pidfd)
        }
        child = nil
        schedule()
        var expirations: UInt64 = 0
        _ = read(timer, &expirations, 8)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func nanoseconds(_ seconds: Double) -> UInt64 {
        seconds > 0 ? UInt64(min(seconds, 1e9) * 1e9) : 0
    }
}
