import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// The pool directory: one ``PoolFile`` per pool, opened on first use.
///
/// Used by the daemon (host operations) and by the `kvp` CLI alike, so both
/// read and write the files with the same locking and the same semantics.
/// Not thread-safe: one owner (the daemon's request loop, or the CLI).
public final class PoolStore {
    /// hv_kvp_daemon's directory (KVP_CONFIG_LOC).
    public static let defaultDirectory = "/var/lib/hyperv"

    /// Directory holding `.kvp_pool_0` … `.kvp_pool_4`.
    public let directory: String
    /// Whether files are opened for writing (and created when missing).
    public let writable: Bool
    /// Longest wait for another program's lock.
    public let lockTimeout: Double

    private var files: [KVPPool: PoolFile] = [:]

    /// A writable store creates the directory (mode 0755, one level, like
    /// the daemon) when it does not exist.
    public init(directory: String = PoolStore.defaultDirectory, writable: Bool,
                lockTimeout: Double = 10) throws {
        self.directory = directory
        self.writable = writable
        self.lockTimeout = lockTimeout
        if writable, mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw PoolError.system(operation: "mkdir", path: directory, errno: .current)
        }
    }

    /// Opens every pool file now (the daemon creates all five at start-up,
    /// as hv_kvp_daemon does, so readers find them) and, when writable,
    /// drops partial trailing records left by a writer that died.  Returns
    /// the pools that had one, with the bytes dropped.
    @discardableResult
    public func openAll() throws -> [(pool: KVPPool, droppedBytes: Int)] {
        var repaired: [(pool: KVPPool, droppedBytes: Int)] = []
        for p in KVPPool.allCases {
            let f = try file(p)
            if writable, case let n = try f.discardPartialTail(), n > 0 { repaired.append((p, n)) }
        }
        return repaired
    }

    /// The file of `pool`.
    public func file(_ pool: KVPPool) throws -> PoolFile {
        if let f = files[pool] { return f }
        let f = try PoolFile(path: directory + "/" + pool.fileName, writable: writable,
                             lockTimeout: lockTimeout)
        files[pool] = f
        return f
    }
}
