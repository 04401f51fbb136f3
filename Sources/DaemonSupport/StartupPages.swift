import CHVSupport
import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// The code pages start-up used, handed back once the daemon serves.
///
/// The packaged binary is 32 MB with the Swift runtime linked in; argument parsing, the
/// configuration, discovery and the service table touch code all over it, and the kernel maps a
/// 64 KB window of the file around every such page fault (fault-around). Measured, that kept
/// ~6 MB of code resident in an agent whose loop then runs a small part of it
/// (docs/PERFORMANCE.md, "Idle agent"). Once ready, the daemon drops its mappings of the
/// executable's read-only segments (`madvise(MADV_DONTNEED)`): they are clean pages of the file,
/// still in the page cache, and what the loop runs next is mapped again on first use. Writable
/// segments are never touched, so no state is lost.
public enum StartupPages {
    /// Drops the mappings once; returns the bytes advised. Harmless to call again.
    @discardableResult
    public static func release() throws(SystemCallError) -> Int {
        let bytes = chv_release_readonly_image_pages()
        if bytes < 0 { throw SystemCallError(call: "madvise(MADV_DONTNEED)", errno: .current) }
        return bytes
    }
}
