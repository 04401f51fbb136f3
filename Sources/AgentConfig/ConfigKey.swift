/// One configuration key: where it lives, its default, what values it takes, and what it does.
///
/// The table in ``ConfigKey/all`` is the single description of the configuration: the parser
/// validates against it, `hvagent config --defaults` prints the documented default file from it, and
/// the man page lists the same keys. Rows are made only by the typed ``Setting`` handles
/// (ConfigKey+Table.swift), through which the code reads the values.
public struct ConfigKey: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// One of a fixed set of words.
        case choice([String])
        /// `true` / `false` (also yes/no, on/off, 1/0).
        case boolean
        /// Free text (a command line, a path).
        case text
        /// An absolute path.
        case path
        /// An absolute path, or empty for "none" (e.g. no helper: do the work in-process).
        case pathOrEmpty
        /// Space-separated words (may be empty).
        case list
        /// A whole number within bounds.
        case integer(ClosedRange<Int>)
    }

    public let section: String
    public let name: String
    public let kind: Kind
    public let defaultValue: String
    public let help: String
    /// Whether a changed value takes effect when the daemon reloads (SIGHUP, `systemctl reload
    /// hvagent`) or only at the next start. Keys that choose devices, modes, paths or sockets wait
    /// for a restart: changing them under open channels would drop host requests in flight.
    public let appliesOnReload: Bool

    init(section: String, name: String, kind: Kind, defaultValue: String, help: String, appliesOnReload: Bool = false) {
        self.section = section
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.appliesOnReload = appliesOnReload
    }

    public var qualifiedName: String { "\(section).\(name)" }

    /// The sentence the documented default file and hvagent.conf(5) add to the key's help.
    public var whenApplied: String {
        appliesOnReload ? "Takes effect on reload (SIGHUP)." : "Takes effect at the next start."
    }

    private static let byName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.qualifiedName, $0) })

    public static func lookup(section: String, name: String) -> ConfigKey? { byName["\(section).\(name)"] }

    /// Validates and normalises a value; `nil` with a message when it does not fit.
    func normalise(_ raw: String) -> Result<String, ConfigError.Problem> {
        switch kind {
        case .choice(let words):
            let v = raw.lowercased()
            return words.contains(v) ? .success(v) : .failure(.badValue("\(qualifiedName) must be one of \(words.joined(separator: ", ")), not \"\(raw)\""))
        case .boolean:
            switch raw.lowercased() {
            case "true", "yes", "on", "1": return .success("true")
            case "false", "no", "off", "0": return .success("false")
            default: return .failure(.badValue("\(qualifiedName) must be true or false, not \"\(raw)\""))
            }
        case .text:
            return .success(raw)
        case .path:
            return raw.hasPrefix("/") ? .success(raw) : .failure(.badValue("\(qualifiedName) must be an absolute path, not \"\(raw)\""))
        case .pathOrEmpty:
            return raw.isEmpty || raw.hasPrefix("/") ? .success(raw)
                : .failure(.badValue("\(qualifiedName) must be an absolute path or empty, not \"\(raw)\""))
        case .list:
            return .success(raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " "))
        case .integer(let range):
            guard let n = Int(raw), range.contains(n) else {
                return .failure(.badValue("\(qualifiedName) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \"\(raw)\""))
            }
            return .success(String(n))
        }
    }
}
