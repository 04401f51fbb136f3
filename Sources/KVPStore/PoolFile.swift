import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// One pool file (`.kvp_pool_N`), shared safely with every other program
/// that reads or writes it (hv_kvp_daemon, cloud-init, azure-init, MS
/// samples, Ignition).
///
/// * Every access runs under both whole-file locks (``FileLock``).
/// * The in-memory copy is refreshed only when the file changed (inode,
///   size, mtime, ctime); when it only grew, only the appended tail is read.
///   This removes hv_kvp_daemon's O(n) re-read per request (bug B4).
/// * Mutations follow hv_kvp_daemon's semantics and record order (docs/PROTOCOL.md
///   §7.16): SET modifies the first record with that key in place or appends;
///   DELETE removes the first match and shifts later records up.  Unlike the
///   daemon we never truncate and rewrite the whole file: a modify is one
///   `pwrite` of one record, an append is one `pwrite` at the end, so a
///   concurrent reader or appender never sees a short file (bug B3).
/// * Records are always written whole and zero-padded (bug B2).
/// * A trailing partial record (a writer that died mid-append) is ignored
///   when reading and overwritten by our next append, like the daemon does.
public final class PoolFile {
    /// Absolute path of the file.
    public let path: String
    /// Whether this handle may modify the file.
    public let writable: Bool
    /// Longest wait for another program's lock before giving up.
    public var lockTimeout: Double

    private var fd: Int32 = -1
    /// The whole records in file order, with a first-index of keys for O(1) SET/GET/DELETE.
    private var records = PoolRecordTable()
    private var identity: Identity?

    /// What "unchanged" means for the cache.  mtime alone is not enough on
    /// coarse-timestamp file systems; since Linux 6.13 a queried inode gets a
    /// fine-grained timestamp on its next change (multigrain timestamps), and
    /// ctime also catches writers that reset mtime.
    private struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int
        var mtime: timespecValue
        var ctime: timespecValue
    }

    private struct timespecValue: Equatable {
        var sec: Int
        var nsec: Int
    }

    /// Opens (and, when `writable`, creates with mode 0644) the file at `path`.
    /// A read-only handle of a missing file reads as an empty pool.
    public init(path: String, writable: Bool, lockTimeout: Double = 10) throws {
        self.path = path
        self.writable = writable
        self.lockTimeout = lockTimeout
        try openIfNeeded()
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    // MARK: - Queries

    /// All whole records in file order.
    public func allRecords() throws -> [PoolRecord] {
        try locked(exclusive: false) { records.allRecords }
    }

    /// Number of whole records.
    public func count() throws -> Int {
        try locked(exclusive: false) { records.count }
    }

    /// Record number `index`, or nil past the end.
    public func record(at index: Int) throws -> PoolRecord? {
        try locked(exclusive: false) { records.record(at: index) }
    }

    /// The first record whose key equals `key` exactly (hv_kvp_daemon's match).
    public func first(key: [UInt8]) throws -> PoolRecord? {
        try locked(exclusive: false) { records.firstIndex(of: key).flatMap { records.record(at: $0) } }
    }

    // MARK: - Mutations

    /// Outcome of ``set(_:)``.
    public enum SetOutcome: Equatable, Sendable {
        /// The first record with that key was overwritten in place.
        case modified(index: Int)
        /// A new record was appended.
        case appended(index: Int)
    }

    /// Modifies the first record with the same key in place, or appends.
    @discardableResult
    public func set(_ record: PoolRecord) throws -> SetOutcome {
        try requireWritable()
        return try locked(exclusive: true) {
            if let i = records.firstIndex(of: record.key) {
                try writeAll(record.encoded(), at: i * PoolRecord.size)
                records.replaceValue(at: i, with: record.value)
                try noteOwnWrite()
                return .modified(index: i)
            }
            let i = records.count
            let end = (i + 1) * PoolRecord.size
            do {
                try writeAll(record.encoded(), at: i * PoolRecord.size)
            } catch {
                // A full disk (ENOSPC, EFBIG) can fail the write after part of the record
                // landed: cut the file back so other readers never see a partial record
                // and the next append stays aligned.
                try? truncateFile(to: i * PoolRecord.size)
                throw error
            }
            // Drop a partial record left behind by a writer that died: we hold
            // both locks, so no live writer is in the middle of that append.
            if let id = identity, id.size > end {
                try truncateFile(to: end)
            }
            records.append(record)
            try noteOwnWrite()
            return .appended(index: i)
        }
    }

    /// Deletes the first record with `key`, shifting later records up one
    /// slot (order preserved, unlike the MS sample's swap-with-last).
    /// Returns false when no record has that key.
    @discardableResult
    public func delete(key: [UInt8]) throws -> Bool {
        try requireWritable()
        return try locked(exclusive: true) {
            guard let i = records.firstIndex(of: key) else { return false }
            // Later records move up one slot, a bounded batch per write (not one buffer of the
            // whole tail: 25 MB for 10k records).
            var next = i + 1
            while next < records.count {
                let batch = min(Self.recordsPerChunk, records.count - next)
                var bytes: [UInt8] = []
                bytes.reserveCapacity(batch * PoolRecord.size)
                for n in next..<(next + batch) { bytes += records.record(at: n)?.encoded() ?? [] }
                try writeAll(bytes, at: (next - 1) * PoolRecord.size)
                next += batch
            }
            try truncateFile(to: (records.count - 1) * PoolRecord.size)
            records.remove(at: i)
            try noteOwnWrite()
            return true
        }
    }

    /// Cuts off a partial record at the end of the file (a writer killed in
    /// the middle of an append) and returns how many bytes were dropped.
    /// Safe under both locks: a live appender holds one of them while it
    /// writes, so what is left now is garbage.  The daemon calls this at
    /// start-up so readers that reject such files (azure-init) recover.
    @discardableResult
    public func discardPartialTail() throws -> Int {
        try requireWritable()
        return try locked(exclusive: true) {
            let size = identity?.size ?? 0
            let whole = size - size % PoolRecord.size
            guard whole < size else { return 0 }
            try truncateFile(to: whole)
            try noteOwnWrite()
            return size - whole
        }
    }

    // MARK: - Locking and refresh

    private func locked<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        try openIfNeeded()
        guard fd >= 0 else {
            records.removeAll()
            identity = nil
            return try body()
        }
        try FileLock.acquire(fd: fd, path: path, exclusive: exclusive, timeout: lockTimeout)
        defer { FileLock.release(fd: fd) }
        try refresh()
        return try body()
    }

    /// (Re)opens when the path now names another file (replaced or deleted
    /// and recreated by another program) or was not there before.
    private func openIfNeeded() throws {
        var pathStat = stat()
        let exists = stat(path, &pathStat) == 0
        if fd >= 0 {
            var fdStat = stat()
            if exists, fstat(fd, &fdStat) == 0, fdStat.st_ino == pathStat.st_ino,
               fdStat.st_dev == pathStat.st_dev {
                return
            }
            close(fd)
            fd = -1
            identity = nil
        }
        if !exists && !writable { return }
        let flags = (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC
        let newFD = open(path, flags, 0o644)
        guard newFD >= 0 else {
            throw PoolError.system(operation: "open", path: path, errno: .current)
        }
        fd = newFD
    }

    private func currentIdentity() throws -> Identity {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw PoolError.system(operation: "fstat", path: path, errno: .current)
        }
        return Identity(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int(st.st_size),
            mtime: timespecValue(sec: st.st_mtim.tv_sec, nsec: st.st_mtim.tv_nsec),
            ctime: timespecValue(sec: st.st_ctim.tv_sec, nsec: st.st_ctim.tv_nsec))
    }

    /// Records read per `pread` when (re)loading: bounded memory whatever the file size.
    static let recordsPerChunk = 64

    private func refresh() throws {
        let now = try currentIdentity()
        if now == identity { return }
        let known = records.count
        if let old = identity, old.device == now.device, old.inode == now.inode,
           now.size > old.size, old.size >= known * PoolRecord.size {
            // It grew. stat() cannot tell "appended" from "changed in place and appended" (our own
            // `kvp set` modifies in place), so the known records are compared with the file before
            // only the tail is parsed; any difference means a full re-parse, never a stale value.
            var same = true
            let complete = try readRecords(upTo: now.size) { index, key, value in
                if index < known {
                    same = records.matches(index, key: key, value: value)
                    return same
                }
                records.append(key: key, value: value)
                return true
            }
            if same {
                identity = complete ? now : nil
                return
            }
        }
        records.removeAll()
        let complete = try readRecords(upTo: now.size) { _, key, value in
            records.append(key: key, value: value)
            return true
        }
        // Shrunk while we read (a writer that ignores locks): re-read next time.
        identity = complete ? now : nil
    }

    /// Reads the whole records of the first `size` bytes in bounded chunks and hands each one's
    /// key and value (up to their NUL; a field without one is taken whole) to `body`, which
    /// returns false to stop. Returns whether every byte up to `size` was there.
    private func readRecords(upTo size: Int,
                             _ body: (Int, ArraySlice<UInt8>, ArraySlice<UInt8>) -> Bool) throws -> Bool {
        let chunkBytes = Self.recordsPerChunk * PoolRecord.size
        var offset = 0
        var index = 0
        while offset < size {
            let chunk = try readAll(from: offset, to: min(size, offset + chunkBytes))
            let whole = chunk.count / PoolRecord.size
            for n in 0..<whole {
                let start = n * PoolRecord.size
                let key = chunk[start..<(start + PoolRecord.keyFieldSize)].prefix { $0 != 0 }
                let value = chunk[(start + PoolRecord.keyFieldSize)..<(start + PoolRecord.size)].prefix { $0 != 0 }
                guard body(index, key, value) else { return true }
                index += 1
            }
            offset += chunk.count
            if chunk.count < min(chunkBytes, size - (offset - chunk.count)) { return false }
        }
        return true
    }

    /// After our own write the file is exactly our cache; remember its new
    /// identity so the next access does not re-read it.
    private func noteOwnWrite() throws {
        identity = try currentIdentity()
    }

    private func requireWritable() throws {
        guard writable else { throw PoolError.readOnly(path: path) }
    }

    // MARK: - Raw I/O

    private func readAll(from start: Int, to end: Int) throws -> [UInt8] {
        guard end > start else { return [] }
        var buf = [UInt8](repeating: 0, count: end - start)
        var done = 0
        while done < buf.count {
            let n = buf.withUnsafeMutableBytes { p -> Int in
                guard let base = p.baseAddress else { return 0 }
                return retryingOnInterrupt { pread(fd, base + done, p.count - done, off_t(start + done)) }
            }
            if n < 0 { throw PoolError.system(operation: "read", path: path, errno: .current) }
            if n == 0 { break }  // shrank meanwhile (a writer without our locks)
            done += n
        }
        return Array(buf.prefix(done))
    }

    private func writeAll(_ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { p -> Int in
                guard let base = p.baseAddress else { return 0 }
                return retryingOnInterrupt { pwrite(fd, base + done, p.count - done, off_t(offset + done)) }
            }
            if n < 0 { throw PoolError.system(operation: "write", path: path, errno: .current) }
            done += n
        }
    }

    private func truncateFile(to size: Int) throws {
        if retryingOnInterrupt({ ftruncate(fd, off_t(size)) }) != 0 {
            throw PoolError.system(operation: "truncate", path: path, errno: .current)
        }
    }
}
