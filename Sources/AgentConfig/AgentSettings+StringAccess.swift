/// Reading values by `"section", "name"` strings: a misspelled key reads "" (or false, 0, []) and
/// compiles. To be removed once Sources/hvagent uses typed keys (`settings[.handle]`, see
/// ``Setting``); nothing else uses these any more.
extension AgentSettings {
    public func string(_ section: String, _ name: String) -> String {
        values["\(section).\(name)"] ?? ""
    }

    public func bool(_ section: String, _ name: String) -> Bool { string(section, name) == "true" }

    public func int(_ section: String, _ name: String) -> Int { Int(string(section, name)) ?? 0 }

    public func list(_ section: String, _ name: String) -> [String] {
        string(section, name).split(separator: " ").map(String.init)
    }
}
