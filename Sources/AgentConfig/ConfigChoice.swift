/// A key whose value is one of a fixed set of words: the words are the enum's cases, so the parser's
/// list (and its error message), the documented file and the code that switches on the value cannot
/// drift apart.
///
/// The case order is the order the words are listed in error messages and in hvagent.conf(5).
public protocol ConfigChoice: SettingValue, CaseIterable, RawRepresentable where RawValue == String {}

extension ConfigChoice {
    public init?(settingText: String) { self.init(rawValue: settingText) }

    public var settingText: String { rawValue }

    /// The words the key accepts, in case order.
    static var words: [String] { allCases.map(\.rawValue) }
}
