/// A libnl call failed. `code` is libnl's (negative) NLE_* error, `message` its nl_geterror text.
public struct NetlinkError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var code: Int32
    public var message: String

    public var description: String { "\(operation) failed: \(message) (libnl error \(code))" }
}
