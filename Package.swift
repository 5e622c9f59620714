// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "bundle",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "bundle", targets: ["bundle"]),
        .library(name: "BundleKit", targets: ["BundleKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C system libraries (module.modulemap + shim.h).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CLibGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CPgQuery", providers: [.apt(["libpg-query-dev"])]),
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),

        // Infrastructure layer.
        .target(name: "ContentHash", dependencies: ["CCrypto"]),
        .target(name: "PostgresCatalog", dependencies: ["CLibPQ"]),
        .target(name: "GitHistory", dependencies: ["CLibGit2", "CZlib", "CCrypto"]),
        .target(name: "SQLSyntax", dependencies: ["CPgQuery", "ContentHash"]),

        // Domain layer: no C imports, no printing.
        .target(name: "BundleKit", dependencies: ["PostgresCatalog", "GitHistory", "SQLSyntax", "ContentHash"]),

        // Command line.
        .target(
            name: "BundleCLI",
            dependencies: ["BundleKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "bundle", dependencies: ["BundleCLI"]),

        // Throwaway PostgreSQL clusters and temp projects for the tests.
        .target(name: "BundleTestSupport", dependencies: ["PostgresCatalog", "BundleKit"], path: "Sources/BundleTestSupport"),

        .testTarget(name: "SQLSyntaxTests", dependencies: ["SQLSyntax", "ContentHash", "BundleTestSupport"]),
        .testTarget(name: "PostgresCatalogTests", dependencies: ["PostgresCatalog", "BundleTestSupport"]),
        .testTarget(name: "GitHistoryTests", dependencies: ["GitHistory"]),
        .testTarget(name: "BundleKitTests", dependencies: ["BundleKit", "BundleTestSupport"]),
        .testTarget(name: "BundleCLITests", dependencies: ["BundleCLI", "BundleTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
