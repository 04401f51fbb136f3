import AgentCore
import DaemonSupport
import IPInjection
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Lines written from another thread.
public final class LineLog: Sendable {
    private let storage = Mutex<[String]>([])
    public init() {}
    public func append(_ line: String) { storage.withLock { $0.append(line) } }
    public var lines: [String] { storage.withLock { $0 } }
}

/// `hvagent ip-helper`'s server (``IPHelper``) on a thread of this test process, on a socket in a
/// temporary directory, until ``stop()``.
public final class RunningIPHelper: @unchecked Sendable {
    public let directory = TempDir()
    public let socketPath: String
    /// What the helper logged.
    public let log = LineLog()
    private var stopPipe: [Int32] = [-1, -1]
    private let done = Atomic<Bool>(false)
    private let helper: IPHelper

    public init(injector: any IPInjecting, peerUnit: String? = nil, idleExitSeconds: Int? = nil) throws {
        socketPath = directory.path + "/ip.sock"
        helper = IPHelper(listener: try HelperSocket.bind(path: socketPath), injector: injector,
                              peerCheck: HelperPeerCheck(unit: peerUnit), idleExitSeconds: idleExitSeconds,
                              log: { [log] line in log.append(line) })
        _ = pipe(&stopPipe)
        let stop = stopPipe[0]
        guard DetachedThread.start({ [self] in
            self.helper.run(stop: stop)
            done.store(true, ordering: .releasing)
        }) else { throw Shell.Failure(description: "cannot start the IP helper's thread") }
    }

    /// Whether ``IPHelper/run(stop:)`` has returned (stopped, or idle long enough).
    public var finished: Bool { done.load(ordering: .acquiring) }

    /// Stops the helper and waits (up to 10 s) until it has returned.
    public func stop() {
        var one: UInt8 = 1
        _ = write(stopPipe[1], &one, 1)
        for _ in 0..<2000 where !finished { usleep(5_000) }
        close(stopPipe[0])
        close(stopPipe[1])
    }
}
