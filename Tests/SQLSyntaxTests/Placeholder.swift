import Testing

@Test func placeholder_SQLSyntaxTests() { #expect(Bool(true)) }
