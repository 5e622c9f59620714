import Testing

@Test func placeholder_PostgresCatalogTests() { #expect(Bool(true)) }
