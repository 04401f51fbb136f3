import HVProtocol

/// The destination of a START as the path policy reads it, before anything is opened.
///
/// The rules (docs/COMPATIBILITY.md, "File copy"): path_name must be absolute; `..` is refused
/// (not resolved); empty and `.` components are dropped; environment variables are never expanded.
/// Windows semantics (docs/PROTOCOL.md §6.6): a path_name that ends in `/` or names an existing
/// directory receives `file_name` inside it; any other path_name is the file itself.
struct FileCopyDestination: Hashable {
    /// path_name's components from `/`.
    var components: [String]
    /// path_name ended with `/`: it can only be a directory.
    var trailingSlash: Bool
    /// file_name, checked to be a single component.
    var fileName: String?

    /// Longest path the kernel accepts (`PATH_MAX`, the NUL included).
    static let pathMax = 4096
    /// Longest file name (`NAME_MAX`).
    static let nameMax = 255

    init(_ start: FileCopyStart) throws(FileCopyError) {
        let path = start.pathName
        guard path.hasPrefix("/") else { throw .refused("destination \"\(path)\" is not an absolute path") }
        guard path.utf8.count < Self.pathMax else { throw .refused("destination longer than PATH_MAX") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        guard !parts.contains("..") else { throw .refused("destination \"\(path)\" contains \"..\"") }
        for part in parts where part.utf8.count > Self.nameMax {
            throw .refused("a component of \"\(path)\" is longer than NAME_MAX")
        }
        components = parts
        trailingSlash = path.hasSuffix("/") || parts.isEmpty
        let name = start.fileName
        if name.isEmpty || name == "." || name == ".." || name.contains("/") || name.utf8.count > Self.nameMax {
            fileName = nil
        } else {
            fileName = name
        }
    }

    /// The target inside directory `directory`: `file_name`, which must be a valid leaf.
    func leafInDirectory(_ display: String) throws(FileCopyError) -> String {
        guard let fileName else { throw .refused("file name is empty, \".\", \"..\", contains \"/\" or is too long (destination \(display))") }
        return fileName
    }

    /// path_name as text (normalised).
    var display: String { "/" + components.joined(separator: "/") }
}
