@testable import BundleKit
import Testing

/// search_path settings split as the server splits them (`SplitIdentifierString`).
@Suite struct SearchPathSettingTests {
    @Test(arguments: [
        (#""$user", public"#, ["$user", "public"]),
        (#"Public,"Mixed Case" , "a""b",pg_catalog"#, ["public", "Mixed Case", "a\"b", "pg_catalog"]),
        (#""""#, [""]),
        ("  sales ,  ÉTÉ", ["sales", "ÉtÉ"]),  // only ASCII letters are lower-cased in UTF-8
    ])
    func splits(_ setting: String, _ elements: [String]) {
        #expect(CatalogOverlay.searchPathElements(setting) == elements)
    }
}
