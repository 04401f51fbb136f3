/// A configuration file error, located: the agent refuses to start on an invalid file rather than
/// guess, and says exactly where the problem is.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Error, Equatable, Sendable {
        case syntax(String)
        case unknownSection(String)
        case unknownKey(String)
        case duplicateKey(String)
        case badValue(String)
        case unreadable(String)
    }

    public var file: String
    /// 1-based line number; 0 when the whole file is concerned.
    public var line: Int
    public var problem: Problem

    public init(file: String, line: Int, problem: Problem) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        let what: String
        switch problem {
        case .syntax(let s): what = s
        case .unknownSection(let s): what = "unknown section [\(s)]"
        case .unknownKey(let k): what = "unknown key \(k)"
        case .duplicateKey(let k): what = "\(k) is set twice"
        case .badValue(let s): what = s
        case .unreadable(let s): what = s
        }
        return line > 0 ? "\(file):\(line): \(what)" : "\(file): \(what)"
    }
}
