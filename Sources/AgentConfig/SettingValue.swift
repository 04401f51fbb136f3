/// A type a configuration key's value can be read as, through its ``Setting`` handle.
///
/// The parser stores every value as normalised text (so `ConfigReload` and `hvagent config` compare
/// and print text); a handle turns that text into its value type when read. Each conformance reads
/// exactly what its key's ``ConfigKey/Kind`` normalises to, and writes its default the same way,
/// so a handle's typed default and its row's default text are one value.
public protocol SettingValue: Sendable {
    /// Reads a normalised value; `nil` for text the key's kind never produces.
    init?(settingText: String)
    /// The value as the parser would store it.
    var settingText: String { get }
}

/// Free text and paths are stored as given (quotes removed, surrounding spaces trimmed).
extension String: SettingValue {
    public init?(settingText: String) { self = settingText }
    public var settingText: String { self }
}

/// Booleans are normalised to `true` / `false` (from yes/no, on/off, 1/0 as well).
extension Bool: SettingValue {
    public init?(settingText: String) {
        switch settingText {
        case "true": self = true
        case "false": self = false
        default: return nil
        }
    }

    public var settingText: String { self ? "true" : "false" }
}

/// Whole numbers are normalised to their decimal form, already within the key's range.
extension Int: SettingValue {
    public init?(settingText: String) {
        guard let n = Int(settingText) else { return nil }
        self = n
    }

    public var settingText: String { String(self) }
}

/// Lists are normalised to words separated by single spaces; the empty list is the empty text.
extension Array: SettingValue where Element == String {
    public init?(settingText: String) {
        self = settingText.split(separator: " ").map(String.init)
    }

    public var settingText: String { joined(separator: " ") }
}
