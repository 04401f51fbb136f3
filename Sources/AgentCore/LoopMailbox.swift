import CHVSupport
import HVSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Hands values from other threads (a finished task, a worker) to the agent's loop thread: `post`
/// from anywhere, and the loop runs `deliver` for each value when ``input`` is readable. What
/// runs on the loop can then touch loop-confined state (a front end, a held reply) without locks
/// (ARCHITECTURE.md, "One event loop").
public final class LoopMailbox<Message: Sendable>: Sendable {
    /// An eventfd, readable while messages wait.
    public let descriptor: Int32
    private let waiting = Mutex<[Message]>([])

    public init() throws(SystemCallError) {
        descriptor = chv_eventfd(1)
        guard descriptor >= 0 else { throw SystemCallError(call: "eventfd", errno: .current) }
    }

    deinit {
        close(descriptor)
    }

    /// Any thread.
    public func post(_ message: Message) {
        waiting.withLock { $0.append(message) }
        var one: UInt64 = 1
        _ = retryingOnInterrupt { write(descriptor, &one, 8) }
    }

    /// Loop thread: the messages posted since the last call, oldest first.
    public func take() -> [Message] {
        var count: UInt64 = 0
        _ = retryingOnInterrupt { read(descriptor, &count, 8) }
        return waiting.withLock { messages in
            defer { messages.removeAll() }
            return messages
        }
    }

    /// The loop's input: `deliver` runs on the loop thread for each message.
    public func input(_ deliver: @escaping (Message) -> Void) -> PollInput {
        PollInput(descriptor: descriptor) { [self] in
            for message in take() { deliver(message) }
        }
    }
}
