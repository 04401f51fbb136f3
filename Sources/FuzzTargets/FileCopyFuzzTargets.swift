import FileCopy
import HVProtocol
import ICFramework

/// Fuzz targets for file copy: the decoders for both name encodings on the raw input, then the same
/// input as a sequence of IC packets through the file-copy endpoint and engine, as a hostile host
/// would send them (docs/RELIABILITY.md, "Fuzz targets").
///
/// The engine's policy allows no destination at all (its only root is not an absolute path), so a
/// fuzzed START is refused before anything is created: the target probes the path checks and the
/// state machine, never this machine's file system.
enum FileCopyFuzzTargets {
    static let decoders = FuzzTarget(name: "fcopy-decoders") { input in
        let bytes = Array(input)
        for names in [FileCopyNameEncoding.utf16, .utf8] {
            if case .write(let chunk) = try? FileCopyMessage.decode(bytes, names: names) {
                precondition(chunk.data.count <= FileCopyLayout.maximumChunk, "chunk above 6144 bytes")
                precondition(chunk.data.endIndex <= bytes.count, "chunk past the body")
            }
        }
        var endpoint = ICEndpoint(service: FileCopyICService(engine: FileCopyEngine(policy: FileCopyPolicy(allowedRoots: ["fuzz: nothing is allowed"]))))
        for packet in ICFuzzTargets.packets(input) {
            if let reply = endpoint.process(packet).reply {
                precondition(reply.count >= 28, "short reply")
            }
        }
        precondition(!endpoint.service.engine.isOpen, "a copy opened outside the allowed roots")
    }
}
