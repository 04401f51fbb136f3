extension Duration {
    /// The duration in seconds, as the host's configuration states intervals and timeouts.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
