import Foundation

/// How serious a finding is.
public enum Severity: String, Codable, Sendable, Comparable {
    case info
    case warning
    case error

    private var rank: Int { self == .error ? 2 : self == .warning ? 1 : 0 }
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One problem the planner found with a statement.
public struct Finding: Codable, Sendable, Equatable {
    /// Stable rule id, e.g. `function-remove-param-default`.
    public var rule: String
    public var severity: Severity
    /// 1-based index of the statement in its bundle file.
    public var statement: Int
    public var line: Int
    public var column: Int
    /// The object the finding is about, e.g. `public.fn_x(uuid,text,text)`.
    public var object: String?
    /// For an `error`: the SQLSTATE the server would raise.
    public var sqlstate: String?
    /// For an `error`: the server's primary message, exactly; otherwise bundle's own message.
    public var message: String
    /// The server's DETAIL, when it prints one.
    public var detail: String?
    /// What to do about it (for predicted errors: the server's HINT, then bundle's advice).
    public var hint: String?

    public init(
        rule: String, severity: Severity, statement: Int, line: Int, column: Int, object: String? = nil, sqlstate: String? = nil,
        message: String, detail: String? = nil, hint: String? = nil
    ) {
        self.rule = rule
        self.severity = severity
        self.statement = statement
        self.line = line
        self.column = column
        self.object = object
        self.sqlstate = sqlstate
        self.message = message
        self.detail = detail
        self.hint = hint
    }
}

/// What one statement does.
public struct StatementSummary: Codable, Sendable, Equatable {
    public var index: Int
    public var line: Int
    /// libpg_query node type, e.g. `CreateFunctionStmt`.
    public var kind: String
    /// `create`, `replace`, `alter`, `drop`, `grant`, `revoke`, `insert`, `update`, `delete`, `comment`, `other`.
    public var action: String
    /// Identity of the main object, when there is one.
    public var object: String?
    /// The strongest table-level lock the statement takes, when it takes one.
    public var lock: String?
}

/// The server's actual outcome when a bundle was rehearsed in a rolled-back transaction.
public struct Rehearsal: Codable, Sendable, Equatable {
    public var ok: Bool
    public var sqlstate: String?
    public var message: String?
    public var detail: String?
    public var hint: String?
    /// 1-based index of the failing statement.
    public var statement: Int?
    /// Whether the first predicted error (or its absence) equals what the server did.
    public var matchesPrediction: Bool

    enum CodingKeys: String, CodingKey {
        case ok, sqlstate, message, detail, hint, statement
        case matchesPrediction = "matches_prediction"
    }
}

/// The plan of one bundle.
public struct BundlePlan: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case ok
        case warning
        case blocked
        case applied
    }

    public var txn: Int
    public var name: String
    public var path: String
    public var sha256: String
    public var status: Status
    public var statements: [StatementSummary]
    public var findings: [Finding]
    public var rehearsal: Rehearsal?

    /// The first error finding (what the server would stop on).
    public var firstError: Finding? {
        findings.filter { $0.severity == .error }.min { $0.statement < $1.statement }
    }
}

/// Database facts printed with a plan.
public struct PlanDatabase: Codable, Sendable, Equatable {
    public var name: String
    public var serverVersion: String
    public var user: String

    enum CodingKeys: String, CodingKey {
        case name, user
        case serverVersion = "server_version"
    }
}

/// The result of `bundle plan`: a stable, scriptable contract.
public struct PlanReport: Codable, Sendable, Equatable {
    public var lock: String
    public var lockSHA256: String
    public var database: PlanDatabase
    public var bundles: [BundlePlan]

    enum CodingKeys: String, CodingKey {
        case lock, database, bundles
        case lockSHA256 = "lock_sha256"
    }

    /// True when any bundle is blocked (exit code 1).
    public var isBlocked: Bool { bundles.contains { $0.status == .blocked } }

    /// Pretty, key-sorted JSON.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
