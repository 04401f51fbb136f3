/// A typed handle on one configuration key: `settings[.kvpPoolDir]` is a `String`,
/// `settings[.stepThresholdSeconds]` an `Int`, `settings[.timesyncMode]` a ``TimesyncModeChoice``.
/// A misspelled handle does not compile, where a misspelled `"section", "key"` pair read "" and a
/// choice compared as text missed a renamed word.
///
/// The handles are declared in ConfigKey+Table.swift, each holding its key's row (``key``): the
/// table ``ConfigKey/all`` is made of those rows, so the parser, the documented file, the man page
/// and the code reading a value share one description of every key.
public struct Setting<Value: SettingValue>: Sendable, Equatable {
    /// The key's row in ``ConfigKey/all``.
    public let key: ConfigKey
    /// The default, typed (the row's ``ConfigKey/defaultValue`` is its text).
    public let defaultValue: Value

    /// Only the typed initialisers below call this: each fixes the row's kind from the value type,
    /// so a handle's type and its row's kind cannot disagree.
    private init(section: String, name: String, kind: ConfigKey.Kind, defaultValue: Value, help: String, appliesOnReload: Bool) {
        key = ConfigKey(section: section, name: name, kind: kind, defaultValue: defaultValue.settingText, help: help,
                        appliesOnReload: appliesOnReload)
        self.defaultValue = defaultValue
    }

    /// Handles are equal when they name the same key.
    public static func == (a: Setting, b: Setting) -> Bool { a.key == b.key }
}

/// Whether a text key takes any text (a command line), only an absolute path, or an absolute path
/// or nothing.
enum TextFormat {
    case text, path, pathOrEmpty
}

extension Setting where Value == String {
    init(section: String, name: String, _ format: TextFormat, default value: String, help: String, appliesOnReload: Bool = false) {
        self.init(section: section, name: name, kind: format.kind, defaultValue: value, help: help,
                  appliesOnReload: appliesOnReload)
    }
}

extension TextFormat {
    var kind: ConfigKey.Kind {
        switch self {
        case .text: .text
        case .path: .path
        case .pathOrEmpty: .pathOrEmpty
        }
    }
}

extension Setting where Value == Bool {
    init(section: String, name: String, default value: Bool, help: String, appliesOnReload: Bool = false) {
        self.init(section: section, name: name, kind: .boolean, defaultValue: value, help: help, appliesOnReload: appliesOnReload)
    }
}

extension Setting where Value == Int {
    init(section: String, name: String, range: ClosedRange<Int>, default value: Int, help: String, appliesOnReload: Bool = false) {
        self.init(section: section, name: name, kind: .integer(range), defaultValue: value, help: help, appliesOnReload: appliesOnReload)
    }
}

extension Setting where Value == [String] {
    init(section: String, name: String, default value: [String], help: String, appliesOnReload: Bool = false) {
        self.init(section: section, name: name, kind: .list, defaultValue: value, help: help, appliesOnReload: appliesOnReload)
    }
}

extension Setting where Value: ConfigChoice {
    init(section: String, name: String, default value: Value, help: String, appliesOnReload: Bool = false) {
        self.init(section: section, name: name, kind: .choice(Value.words), defaultValue: value, help: help, appliesOnReload: appliesOnReload)
    }
}
