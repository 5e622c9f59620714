import Testing

@Test func placeholder_BundleCLITests() { #expect(Bool(true)) }
