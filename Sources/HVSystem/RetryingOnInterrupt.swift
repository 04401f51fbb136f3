#if canImport(Glibc)
import Glibc
#endif

/// Calls `body`, a system call that returns -1 and sets `errno` on failure, again for as long as it
/// fails with EINTR, and returns its last result (errno is still set when that is -1).
///
/// A signal that interrupts a call is never a failure of the call: the one place that says so, so
/// no call site decides it differently (or forgets, and reports "Interrupted system call").
@inlinable
public func retryingOnInterrupt<Result: FixedWidthInteger & SignedInteger>(_ body: () -> Result) -> Result {
    while true {
        let result = body()
        if result >= 0 || errno != EINTR { return result }
    }
}

/// As ``retryingOnInterrupt(_:)``, but a failure is thrown as a ``SystemCallError`` naming
/// `call` (and `path`), so the caller gets either a result or the reason.
@inlinable
public func retryingOnInterrupt<Result: FixedWidthInteger & SignedInteger>(
    _ call: String, path: String? = nil, _ body: () -> Result
) throws(SystemCallError) -> Result {
    let result = retryingOnInterrupt(body)
    if result < 0 { throw SystemCallError(call: call, path: path, errno: .current) }
    return result
}
