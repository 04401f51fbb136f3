import TestSupport
import XCTest
@testable import KVPAgent
import KVPStore
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Plays the kernel's side of /dev/vmbus/hv_kvp over SOCK_SEQPACKET pairs
/// (one message per read/write, a new pair per open, like the peer harness).
final class KernelDeviceFrontEndTests: XCTestCase {
    final class FakeKernel: @unchecked Sendable {
        var kernelEnds: [Int32] = []
        func open() -> Int32 {
            var sv: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &sv) == 0 else { return -1 }
            kernelEnds.append(sv[0])
            return sv[1]
        }
        func recv(_ fd: Int32) -> [UInt8] {
            var buf = [UInt8](repeating: 0, count: 16384)
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            return n > 0 ? Array(buf[0..<n]) : []
        }
        func send(_ fd: Int32, _ m: [UInt8]) {
            _ = m.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
        /// Accepts the registration on the newest connection; returns its fd.
        func register() -> Int32 {
            let fd = kernelEnds[kernelEnds.count - 1]
            let reg = recv(fd)
            precondition(reg.count == KernelMessage.size && reg[0] == 100)
            precondition(reg[4...].allSatisfy { $0 == 0 }, "registration must be zero-filled")
            var reply = Msg.base(100, 0)
            Msg.put(&reply, 4, Array("3.1".utf8))
            send(fd, reply)
            return fd
        }
    }

    func testRegistersAnswersAndReRegistersAfterShortMessage() throws {
        let dir = TempDir()
        let store = try PoolStore(directory: dir.path, writable: true)
        let engine = KVPEngine(store: store, autoPool: FixedAutoPool())
        let kernel = FakeKernel()
        let fe = KernelDeviceFrontEnd(engine: engine, devicePath: "fake", log: { _ in },
                                      openDevice: { kernel.open() })
        let done = expectation(description: "daemon loop ended")
        let box = UncheckedBox(fe)
        let thread = Thread {
            try? box.value.run(maxRequests: 4)
            done.fulfill()
        }
        // open happens on the daemon thread; wait for it
        thread.start()
        while kernel.kernelEnds.isEmpty { usleep(1000) }
        var k = kernel.register()
        kernel.send(k, Msg.set(0, "HostName", "h1"))
        XCTAssertEqual(Msg.status(kernel.recv(k)), 0)
        kernel.send(k, Msg.enumerate(2, 1))
        let e = kernel.recv(k)
        XCTAssertEqual(Msg.cstr(e, 20, 512), "IntegrationServicesVersion")
        XCTAssertEqual(Msg.cstr(e, 532, 2048), "3.1")
        // A short message: the daemon reopens and registers again.
        kernel.send(k, [UInt8](repeating: 1, count: 100))
        while kernel.kernelEnds.count < 2 { usleep(1000) }
        k = kernel.register()
        kernel.send(k, Msg.get(0, "HostName"))
        let g = kernel.recv(k)
        XCTAssertEqual(Msg.status(g), 0)
        XCTAssertEqual(Msg.cstr(g, 528, 2048), "h1")
        kernel.send(k, Msg.set(7, "Pool7", "p"))
        XCTAssertEqual(Msg.status(kernel.recv(k)), HResult.invalidArgument.rawValue)
        wait(for: [done], timeout: 10)
        XCTAssertEqual(fe.registrations, 2)
        for fd in kernel.kernelEnds { close(fd) }
    }
}

extension KernelDeviceFrontEndTests {
    /// A device that keeps failing (read returns EOF right after each
    /// registration) is reopened with a growing pause, not in a busy loop;
    /// an open error other than EBUSY ends the loop.
    func testBacksOffWhenTheDeviceKeepsFailing() throws {
        let dir = TempDir()
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true))
        let kernel = FakeKernel()
        let lock = NSLock()
        var opens = 0
        let fe = KernelDeviceFrontEnd(engine: engine, devicePath: "fake", log: { _ in }, openDevice: {
            lock.lock(); defer { lock.unlock() }
            opens += 1
            if opens > 4 { errno = ENOENT; return -1 }
            return kernel.open()
        })
        let box = UncheckedBox(fe)
        let done = expectation(description: "loop ended")
        final class Thrown: @unchecked Sendable { var error: Error? }
        let thrown = Thrown()
        let t0 = Date()
        Thread {
            do { try box.value.run() } catch { thrown.error = error }
            done.fulfill()
        }.start()
        var closed = 0
        while closed < 4 {
            lock.lock(); let n = kernel.kernelEnds.count; lock.unlock()
            if n > closed {
                let fd = kernel.kernelEnds[closed]
                XCTAssertEqual(kernel.recv(fd).count, KernelMessage.size)  // registration
                close(fd)  // the daemon's next read sees EOF
                closed += 1
            } else {
                usleep(1000)
            }
        }
        wait(for: [done], timeout: 10)
        let elapsed = Date().timeIntervalSince(t0)
        XCTAssertEqual(opens, 5)
        XCTAssertNotNil(thrown.error)
        // reopen #2 immediate, then 0.1 s, 0.2 s, 0.4 s pauses
        XCTAssertGreaterThan(elapsed, 0.65)
    }
}

extension KernelDeviceFrontEndTests {
    /// Another program holding the device (EBUSY) is waited for (B14);
    /// registration follows as soon as the open succeeds.
    func testWaitsForABusyDevice() throws {
        let dir = TempDir()
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true))
        let kernel = FakeKernel()
        let lock = NSLock()
        var attempts = 0
        var lines: [String] = []
        let fe = KernelDeviceFrontEnd(engine: engine, devicePath: "fake", log: { l in lock.lock(); lines.append(l); lock.unlock() },
                                      openDevice: {
            lock.lock(); defer { lock.unlock() }
            attempts += 1
            if attempts <= 2 { errno = EBUSY; return -1 }
            return kernel.open()
        })
        let box = UncheckedBox(fe)
        let done = expectation(description: "served")
        Thread {
            try? box.value.run(maxRequests: 1)
            done.fulfill()
        }.start()
        while true {
            lock.lock(); let n = kernel.kernelEnds.count; lock.unlock()
            if n > 0 { break }
            usleep(1000)
        }
        let k = kernel.register()
        kernel.send(k, Msg.enumerate(0, 0))
        XCTAssertEqual(Msg.status(kernel.recv(k)), HResult.noMoreItems.rawValue)
        wait(for: [done], timeout: 10)
        XCTAssertEqual(attempts, 3)
        lock.lock(); defer { lock.unlock() }
        XCTAssertEqual(lines.filter { $0.contains("busy") }.count, 2)
        close(k)
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

extension KernelDeviceFrontEndTests {
    /// The integrated agent's front end (`mayBlock = false`) never sleeps: a device that keeps
    /// failing is left closed with a growing reopen delay for the caller's timer, a busy device is
    /// reported instead of waited for, and `reopen()` registers again.
    func testNonBlockingFrontEndLeavesTheBackOffToTheCaller() throws {
        let dir = TempDir()
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true))
        let kernel = FakeKernel()
        var busy = false
        let fe = KernelDeviceFrontEnd(engine: engine, devicePath: "fake", log: { _ in }, openDevice: {
            if busy { errno = EBUSY; return -1 }
            return kernel.open()
        })
        fe.mayBlock = false
        try fe.start()
        var delays: [UInt64] = []
        let t0 = Date()
        for round in 0..<5 {
            if fe.descriptor < 0 { try fe.reopen() }
            let k = kernel.kernelEnds[kernel.kernelEnds.count - 1]
            XCTAssertEqual(kernel.recv(k).count, KernelMessage.size)  // registration, never answered
            close(k)  // the next read sees EOF
            _ = try fe.serviceOne()
            delays.append(fe.reopenDelayMicroseconds)
            XCTAssertEqual(fe.descriptor < 0, round > 0, "round \(round): reopened at once only after the first failure")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 0.3, "no sleeping in the front end")
        XCTAssertEqual(delays, [0, 100_000, 200_000, 400_000, 800_000])
        busy = true
        XCTAssertThrowsError(try fe.reopen())
        XCTAssertEqual(fe.reopenDelayMicroseconds, 1_600_000)
        busy = false
        try fe.reopen()
        let k = kernel.register()
        _ = try fe.serviceOne()
        kernel.send(k, Msg.enumerate(0, 0))
        XCTAssertTrue(try fe.serviceOne())
        XCTAssertEqual(Msg.status(kernel.recv(k)), HResult.noMoreItems.rawValue)
        XCTAssertEqual(fe.registrations, 1)
        XCTAssertEqual(fe.reopenDelayMicroseconds, 0, "a whole message ends the back-off")
        for fd in kernel.kernelEnds { close(fd) }
    }
}
