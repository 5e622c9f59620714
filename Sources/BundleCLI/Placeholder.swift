import ArgumentParser
public struct BundleCommand: ParsableCommand {
    public init() {}
}
