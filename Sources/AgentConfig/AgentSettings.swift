/// The agent's settings: every key of ``ConfigKey/all`` with its value (the default unless the file
/// or the command line set it).
public struct AgentSettings: Equatable, Sendable {
    /// Normalised values by qualified name (`section.key`).
    public internal(set) var values: [String: String]
    /// Where each explicitly set value came from (`file:line` or `command line`).
    public internal(set) var origins: [String: String] = [:]

    /// All defaults.
    public init() {
        values = Dictionary(uniqueKeysWithValues: ConfigKey.all.map { ($0.qualifiedName, $0.defaultValue) })
    }

    public static let defaultPath = "/etc/hvagent/hvagent.conf"

    /// Parses a configuration file's text. Format: `[section]` headers, `key = value` lines, `#` or
    /// `;` comments on their own lines, blank lines. Values may be wrapped in double quotes (to keep
    /// leading or trailing spaces or a `#`). Unknown sections and keys, duplicates and bad values are
    /// errors with their line.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> AgentSettings {
        var config = AgentSettings()
        var section: String?
        var seen: Set<String> = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            func fail(_ p: ConfigError.Problem) -> ConfigError { ConfigError(file: file, line: lineNumber, problem: p) }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else { throw fail(.syntax("a section header is [name]")) }
                let name = String(line.dropFirst().dropLast()).trimmingSpaces()
                guard ConfigKey.all.contains(where: { $0.section == name }) else { throw fail(.unknownSection(name)) }
                section = name
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { throw fail(.syntax("expected key = value, [section], or a # comment")) }
            guard let section else { throw fail(.syntax("key before any [section]")) }
            let name = String(line[..<eq]).trimmingSpaces()
            var value = String(line[line.index(after: eq)...]).trimmingSpaces()
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else { throw fail(.syntax("unterminated quoted value")) }
                value = String(value.dropFirst().dropLast())
            }
            guard let key = ConfigKey.lookup(section: section, name: name) else { throw fail(.unknownKey("\(section).\(name)")) }
            guard seen.insert(key.qualifiedName).inserted else { throw fail(.duplicateKey(key.qualifiedName)) }
            switch key.normalise(value) {
            case .success(let v):
                config.values[key.qualifiedName] = v
                config.origins[key.qualifiedName] = "\(file):\(lineNumber)"
            case .failure(let p):
                throw fail(p)
            }
        }
        return config
    }

    /// Applies one `section.key=value` override (from the command line).
    public mutating func override(_ assignment: String) throws(ConfigError) {
        let origin = "command line"
        guard let eq = assignment.firstIndex(of: "=") else {
            throw ConfigError(file: origin, line: 0, problem: .syntax("expected section.key=value, got \"\(assignment)\""))
        }
        let qualified = String(assignment[..<eq]).trimmingSpaces()
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let key = ConfigKey.lookup(section: parts[0], name: parts[1]) else {
            throw ConfigError(file: origin, line: 0, problem: .unknownKey(qualified))
        }
        switch key.normalise(String(assignment[assignment.index(after: eq)...]).trimmingSpaces()) {
        case .success(let v):
            values[key.qualifiedName] = v
            origins[key.qualifiedName] = origin
        case .failure(let p):
            throw ConfigError(file: origin, line: 0, problem: p)
        }
    }

    /// The value of a key as normalised text (always present: defaults fill the rest), for code
    /// that goes through the whole table, such as `hvagent config`.
    public subscript(_ key: ConfigKey) -> String { values[key.qualifiedName] ?? key.defaultValue }

    /// The value of a key, typed: `settings[.kvpPoolDir]`, `settings[.stepThresholdSeconds]`,
    /// `settings[.timesyncMode]`. Values were validated when parsed, so reading one cannot fail;
    /// the typed default stands in only for a value no parse produces.
    public subscript<Value>(_ setting: Setting<Value>) -> Value {
        values[setting.key.qualifiedName].flatMap(Value.init(settingText:)) ?? setting.defaultValue
    }

    /// The documented default file: every key, commented out at its default, with its help.
    public static func documentedDefaults() -> String {
        var out = "# hvagent configuration (hvagent.conf(5)).\n# Every key is shown at its default; uncomment to change it.\n"
        var current = ""
        for key in ConfigKey.all {
            if key.section != current {
                current = key.section
                out += "\n[\(current)]\n"
            }
            out += (wrap(key.help) + [key.whenApplied]).map { "# \($0)\n" }.joined()
            let value = key.defaultValue.isEmpty || key.defaultValue.hasPrefix(" ") ? "\"\(key.defaultValue)\"" : key.defaultValue
            out += "#\(key.name) = \(value)\n"
        }
        return out
    }

    /// The KEYS section of hvagent.conf(5), in roff: the man page is generated from the same table.
    public static func manPageKeys() -> String {
        func roff(_ s: String) -> String {
            var out = ""
            for c in s {
                switch c {
                case "\\": out += "\\e"
                case "-": out += "\\-"
                default: out.append(c)
                }
            }
            return out
        }
        var out = ""
        var current = ""
        for key in ConfigKey.all {
            if key.section != current {
                current = key.section
                out += ".SS [\(current)]\n"
            }
            let kind: String
            switch key.kind {
            case .choice(let words): kind = words.joined(separator: " | ")
            case .boolean: kind = "true | false"
            case .text: kind = "command or text"
            case .path: kind = "absolute path"
            case .pathOrEmpty: kind = "absolute path or empty"
            case .list: kind = "space-separated list"
            case .integer(let r): kind = "\(r.lowerBound)..\(r.upperBound)"
            }
            out += ".TP\n.BR \(roff(key.name)) \" = \" \(roff(kind))\n\(roff(key.help + " " + key.whenApplied))\n"
                + "Default: " + (key.defaultValue.isEmpty ? "empty" : "\\fB\(roff(key.defaultValue))\\fR") + ".\n"
        }
        return out
    }

    static func wrap(_ text: String, width: Int = 98) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return String(s)
    }
}
