import Foundation
import Testing
import DaemonSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite("Local listening sockets")
struct UnixSocketAddressTests {
    /// The socket file is 0600 whatever the umask (set by chmod before listen; the process's umask,
    /// shared by every thread and inherited by their children, is not touched).
    @Test func socketIsOwnerOnlyWithoutTouchingTheUmask() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hvagent-sock-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s").path
        let fd = try UnixSocketAddress(path: path).listeningSocket(type: Int32(SOCK_STREAM.rawValue))
        defer { close(fd) }
        var info = stat()
        try #require(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
    }
}
