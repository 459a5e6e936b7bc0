/// A harness's own failure (not the engine's), with what went wrong in words.
public struct HarnessFailure: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
