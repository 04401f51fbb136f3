import FoundationEssentials
import HostSimulator
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The demo's Copy-VMFile: the simulated host pushes a small file into a private directory (the
/// only root the demo's file-copy service allows), and the timeline shows its name, size and the
/// guest's answers. Nothing outside that directory is ever written.
final class DemoFileCopy {
    private let timeline: Timeline
    /// The directory the copy lands in, removed at the end.
    let directory: String
    static let fileName = "hello-from-host.txt"
    static let text = "Copied by the simulated Hyper-V host with Copy-VMFile. Grüße, 🌍\n"

    init(timeline: Timeline) throws {
        self.timeline = timeline
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hvagent-demo-fcopy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func removeDirectory() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Copies the file from the host and checks what landed; whether it arrived intact.
    func exchange(with host: SimulatedHyperVHost) -> Bool {
        let data = Array(Self.text.utf8)
        let copy = HostFileCopy(fileName: Self.fileName, destination: directory, data: data)
        do {
            let result = try host.copyVMFile(copy)
            let path = directory + "/" + Self.fileName
            let landed = FileManager.default.contents(atPath: path).map { [UInt8]($0) }
            var info = stat()
            let mode: UInt32? = stat(path, &info) == 0 ? UInt32(info.st_mode) & 0o7777 : nil
            let ok = result.status == .ok && landed == data && mode == 0o644
            timeline.log("guest", ok ? "fcopy: \(Self.fileName) landed in \(directory): \(data.count) bytes, mode 0644, identical to the host's file"
                                     : "fcopy: the copy did not arrive intact (status \(result.status), mode \(mode.map { String($0, radix: 8) } ?? "?"))")
            return ok
        } catch {
            timeline.log("demo", "fcopy: \(error)")
            return false
        }
    }
}
