import Testing

@Test func placeholder_BundleKitTests() { #expect(Bool(true)) }
