import HVSystem

extension PoolStore {
    /// Opens the pool directory as a daemon needs it: writable when possible, repairing partial
    /// trailing records (each repair is logged).
    ///
    /// When the directory cannot be written (a read-only file system, or permissions), the store
    /// is opened read-only instead of the daemon refusing to start: the host can still read
    /// every pool, and each SET or DELETE is answered with a failure and logged (hv_kvp_daemon
    /// exits here, which disables KVP until reboot). Nothing is written, so nothing can be
    /// corrupted.
    public static func openForDaemon(directory: String, lockTimeout: Double, log: (String) -> Void) throws -> PoolStore {
        do {
            let store = try PoolStore(directory: directory, writable: true, lockTimeout: lockTimeout)
            for r in try store.openAll() {
                log("KVP: dropped a partial record (\(r.droppedBytes) bytes) at the end of pool \(r.pool)")
            }
            return store
        } catch let PoolError.system(failure)
                    where [.readOnlyFileSystem, .permissionDenied, .notPermitted].contains(failure.errno) {
            log("KVP: \(failure); serving the pools read-only, "
                + "every SET and DELETE from the host is answered with a failure")
            let store = try PoolStore(directory: directory, writable: false, lockTimeout: lockTimeout)
            try store.openAll()
            return store
        }
    }
}
