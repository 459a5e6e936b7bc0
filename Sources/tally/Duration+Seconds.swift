extension Duration {
    /// The duration in seconds, as a floating-point number for reports (never for amounts).
    var inSeconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) * 1e-18
    }
}
