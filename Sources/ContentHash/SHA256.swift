import CCrypto
import Foundation

/// SHA-256 digests of exact bytes, computed with libcrypto.
public enum SHA256 {
    /// The raw 32-byte digest of `data`.
    public static func digest(_ data: Data) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        data.withUnsafeBytes { raw in
            _ = CCrypto.SHA256(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &out)
        }
        return out
    }

    /// The lowercase hex digest of `data`, as `sha256sum` prints it.
    public static func hex(_ data: Data) -> String {
        digest(data).map { String(format: "%02x", $0) }.joined()
    }

    /// The lowercase hex digest of a string's UTF-8 bytes.
    public static func hex(_ string: String) -> String {
        hex(Data(string.utf8))
    }
}
