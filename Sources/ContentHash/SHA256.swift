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
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest(data) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The lowercase hex digest of a string's UTF-8 bytes.
    public static func hex(_ string: String) -> String {
        hex(Data(string.utf8))
    }
}
