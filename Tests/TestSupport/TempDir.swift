#if canImport(Glibc)
import Glibc
#endif

/// A fresh private directory under /tmp, removed with its files at deinit.
public final class TempDir {
    public let path: String

    public init() {
        var template = Array("/tmp/kvpstore-test.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { p -> String? in
            guard let base = p.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        path = made ?? "/tmp/kvpstore-test.failed"
    }

    deinit {
        if let d = opendir(path) {
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(d)
        }
        rmdir(path)
    }

    public func bytes(_ name: String) -> [UInt8] {
        guard let f = fopen(path + "/" + name, "rb") else { return [] }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    public func write(_ name: String, _ bytes: [UInt8], append: Bool = false) {
        guard let f = fopen(path + "/" + name, append ? "ab" : "wb") else { return }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}

/// Encodes a record the way cloud-init does (`struct.pack("512s2048s")`).
public func rawRecord(_ key: String, _ value: String) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 2560)
    let k = Array(key.utf8), v = Array(value.utf8)
    out.replaceSubrange(0..<k.count, with: k)
    out.replaceSubrange(512..<(512 + v.count), with: v)
    return out
}
