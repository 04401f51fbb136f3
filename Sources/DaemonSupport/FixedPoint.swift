/// `%.Nf`-style text for the demo and status lines. Foundation's `String(format:)` would link
/// FoundationInternationalization and ICU into the daemon binary, which costs megabytes of
/// resident file pages on every VM for a few printed numbers.
public enum FixedPoint {
    /// `value` with `digits` decimals, rounded half away from zero; `plus` adds "+" to values
    /// >= 0 (like `%+`); the text is right-aligned in `width` characters (like `%7`).
    public static func text(_ value: Double, digits: Int, plus: Bool = false, width: Int = 0) -> String {
        var body: String
        if !value.isFinite {
            body = value.isNaN ? "nan" : (value < 0 ? "-inf" : (plus ? "+inf" : "inf"))
        } else if abs(value) >= 1e15 {
            body = String(value)  // beyond exact fixed-point: the shortest round-trip text
        } else {
            var scale: UInt64 = 1
            for _ in 0..<max(0, digits) { scale *= 10 }
            let scaled = UInt64((abs(value) * Double(scale)).rounded())
            let integer = String(scaled / scale)
            var fraction = ""
            if digits > 0 {
                let raw = String(scaled % scale)
                fraction = "." + String(repeating: "0", count: digits - raw.count) + raw
            }
            let sign = value < 0 && scaled != 0 ? "-" : (plus ? "+" : "")
            body = sign + integer + fraction
        }
        return body.count < width ? String(repeating: " ", count: width - body.count) + body : body
    }
}
