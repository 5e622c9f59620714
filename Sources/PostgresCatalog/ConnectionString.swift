import CLibPQ
import Foundation

/// Helpers for libpq connection strings: choosing one, and keeping passwords out of logs and error messages.
///
/// libpq accepts two forms: `key=value` pairs (`host=/tmp port=5432 password='it''s'`) and URIs
/// (`postgres://user:secret@host:5432/db?sslmode=require`). Both are handled here.
public enum ConnectionString {
    /// The replacement text for a redacted password.
    public static let mask = "***"

    /// Returns `conninfo` with every password replaced by `***`.
    ///
    /// Handles `password=...` in key=value form (plain, single-quoted and backslash-escaped values), a `dbname` value
    /// that is itself a connection string, the user-info password of a URI (`postgres://user:secret@host/db` becomes
    /// `postgres://user:***@host/db`) and `password=` URI query parameters.
    public static func redact(_ conninfo: String) -> String {
        if isURI(conninfo) { return redactURI(conninfo) }
        var output = ""
        var cursor = conninfo.startIndex
        for pair in keyValuePairs(conninfo) {
            output += conninfo[cursor..<pair.valueRange.lowerBound]
            if pair.key == "password" {
                output += mask
            } else if pair.key == "dbname", isURI(pair.value) || pair.value.contains("=") {
                output += quoteValue(redact(pair.value))
            } else {
                output += conninfo[pair.valueRange]
            }
            cursor = pair.valueRange.upperBound
        }
        output += conninfo[cursor...]
        return output
    }

    /// Chooses the connection string: the explicit `--db` value if given and non-empty, else `$DATABASE_URL` if set
    /// and non-empty, else `""` (libpq then uses the `PG*` environment variables and its defaults).
    public static func resolve(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let url = environment["DATABASE_URL"], !url.isEmpty { return url }
        return ""
    }

    /// Removes every occurrence of a password found in `conninfo` from `text` (for libpq error messages).
    ///
    /// Both the raw and the percent-decoded form of URI passwords are removed, and so are fragments of at least four
    /// characters between `@`, `:` and `/` characters (libpq may split a malformed URI at those characters and quote
    /// a piece in its message).
    public static func scrub(_ text: String, conninfo: String) -> String {
        var secrets = Set<String>()
        for password in passwords(in: conninfo) where !password.isEmpty {
            secrets.insert(password)
            for fragment in password.split(whereSeparator: { "@:/".contains($0) }) where fragment.count >= 4 {
                secrets.insert(String(fragment))
            }
        }
        var result = text
        // Longest first, so a fragment never leaves the rest of a longer secret behind.
        for secret in secrets.sorted(by: { $0.count > $1.count }) {
            result = result.replacingOccurrences(of: secret, with: mask)
        }
        return result
    }

    /// Quotes a value for key=value conninfo if it needs it (empty, whitespace, quotes or backslashes).
    public static func quoteValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { $0.properties.isWhitespace || $0 == "'" || $0 == "\\" }
        guard needsQuotes else { return value }
        let escaped = replacingScalar("'", with: "\\'", in: replacingScalar("\\", with: "\\\\", in: value))
        return "'\(escaped)'"
    }

    // MARK: - Internals

    static func isURI(_ text: String) -> Bool {
        let trimmed = text.drop(while: { $0.isWhitespace })
        return trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://")
    }

    /// Every password-like value in a conninfo string, raw and decoded.
    static func passwords(in conninfo: String) -> [String] {
        if isURI(conninfo) {
            var found: [String] = []
            let parts = uriParts(conninfo)
            if let range = parts.passwordRange {
                let raw = String(conninfo[range])
                found.append(raw)
                if let decoded = raw.removingPercentEncoding { found.append(decoded) }
            }
            for range in parts.queryPasswordRanges {
                let raw = String(conninfo[range])
                found.append(raw)
                if let decoded = raw.removingPercentEncoding { found.append(decoded) }
            }
            return found
        }
        var found: [String] = []
        for pair in keyValuePairs(conninfo) {
            if pair.key == "password" {
                found.append(pair.value)
                found.append(String(conninfo[pair.valueRange]))
            } else if pair.key == "dbname", isURI(pair.value) || pair.value.contains("=") {
                found += passwords(in: pair.value)
            }
        }
        return found
    }

    struct KeyValuePair {
        var key: String
        /// The unescaped value.
        var value: String
        /// The value as written, including quotes.
        var valueRange: Range<String.Index>
    }

    /// Parses key=value conninfo the way libpq's `conninfo_parse` does, keeping source ranges of the values.
    static func keyValuePairs(_ text: String) -> [KeyValuePair] {
        var pairs: [KeyValuePair] = []
        var index = text.startIndex
        func skipSpace() {
            while index < text.endIndex, text[index].isWhitespace { index = text.index(after: index) }
        }
        while true {
            skipSpace()
            guard index < text.endIndex else { break }
            let keyStart = index
            while index < text.endIndex, !text[index].isWhitespace, text[index] != "=" {
                index = text.index(after: index)
            }
            let key = String(text[keyStart..<index])
            skipSpace()
            guard index < text.endIndex, text[index] == "=" else { break }  // malformed: libpq rejects it too
            index = text.index(after: index)
            skipSpace()
            let valueStart = index
            var value = ""
            if index < text.endIndex, text[index] == "'" {
                index = text.index(after: index)
                while index < text.endIndex {
                    let character = text[index]
                    index = text.index(after: index)
                    if character == "\\", index < text.endIndex {
                        value.append(text[index])
                        index = text.index(after: index)
                    } else if character == "'" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                while index < text.endIndex, !text[index].isWhitespace {
                    let character = text[index]
                    index = text.index(after: index)
                    if character == "\\", index < text.endIndex {
                        value.append(text[index])
                        index = text.index(after: index)
                    } else {
                        value.append(character)
                    }
                }
            }
            pairs.append(KeyValuePair(key: key, value: value, valueRange: valueStart..<index))
        }
        return pairs
    }

    struct URIParts {
        var passwordRange: Range<String.Index>?
        var queryPasswordRanges: [Range<String.Index>] = []
    }

    /// Finds the user-info password and the `password=` query parameters of a URI.
    static func uriParts(_ uri: String) -> URIParts {
        var parts = URIParts()
        guard let schemeEnd = uri.range(of: "://")?.upperBound else { return parts }
        let rest = uri[schemeEnd...]
        // The authority ends at the path or query. A raw '@' in a password is not valid, but take the last '@' so
        // that such a password is still fully covered.
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? uri.endIndex
        let authority = uri[schemeEnd..<authorityEnd]
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
            parts.passwordRange = uri.index(after: colon)..<at
        }
        if let question = uri[authorityEnd...].firstIndex(of: "?") {
            var start = uri.index(after: question)
            while start <= uri.endIndex {
                let end = uri[start...].firstIndex(of: "&") ?? uri.endIndex
                let parameter = uri[start..<end]
                if let equals = parameter.firstIndex(of: "="),
                   parameter[..<equals].removingPercentEncoding == "password" {
                    parts.queryPasswordRanges.append(uri.index(after: equals)..<end)
                }
                guard end < uri.endIndex else { break }
                start = uri.index(after: end)
            }
        }
        return parts
    }

    static func redactURI(_ uri: String) -> String {
        let parts = uriParts(uri)
        let ranges = ([parts.passwordRange].compactMap { $0 } + parts.queryPasswordRanges)
            .sorted { $0.lowerBound < $1.lowerBound }
        var output = ""
        var cursor = uri.startIndex
        for range in ranges {
            output += uri[cursor..<range.lowerBound]
            output += mask
            cursor = range.upperBound
        }
        output += uri[cursor...]
        return output
    }
}

extension ConnectionString {
    /// libpq's environment variable for each connection keyword (for child processes such as pg_dump, so that
    /// no password travels on a command line).
    static let environmentNames: [String: String] = [
        "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
        "password": "PGPASSWORD", "passfile": "PGPASSFILE", "service": "PGSERVICE", "options": "PGOPTIONS",
        "application_name": "PGAPPNAME", "sslmode": "PGSSLMODE", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
        "sslrootcert": "PGSSLROOTCERT", "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT",
        "target_session_attrs": "PGTARGETSESSIONATTRS", "gssencmode": "PGGSSENCMODE", "channel_binding": "PGCHANNELBINDING",
    ]

    /// The settings of a conninfo or URI (parsed by libpq) as libpq environment variables; nil when it does not parse.
    public static func environment(for conninfo: String) -> [String: String]? {
        var errorMessage: UnsafeMutablePointer<CChar>? = nil
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val, let name = environmentNames[String(cString: keyword)] {
                result[name] = String(cString: value)
            }
            cursor = cursor.advanced(by: 1)
        }
        return result
    }
}
