import ShutdownSvc

/// A VM that cannot hibernate and has a device bound to uio (hibernate requests are refused).
public struct NoHibernation: HibernationSupport {
    public init() {}
    public var systemCanHibernate: Bool { false }
    public var deviceBoundToUIO: Bool { true }
}
