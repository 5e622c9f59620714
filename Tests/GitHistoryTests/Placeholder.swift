import Testing

@Test func placeholder_GitHistoryTests() { #expect(Bool(true)) }
