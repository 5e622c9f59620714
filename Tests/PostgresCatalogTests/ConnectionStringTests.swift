import PostgresCatalog
import Testing

@Suite struct ConnectionStringTests {
    @Test(arguments: [
        ("host=db password=secret user=u", "host=db password=*** user=u"),
        ("password='se cr\\'et' host=db", "password=*** host=db"),
        ("host=db password = 'p@ss w0rd' port=5432", "host=db password = *** port=5432"),
        ("host=db password=", "host=db password=***"),
        ("host=db user=u", "host=db user=u"),
        ("postgres://user:secret@host/db", "postgres://user:***@host/db"),
        ("postgresql://user:s%40c%2Fret@host:5432/db?sslmode=require", "postgresql://user:***@host:5432/db?sslmode=require"),
        ("postgres://user@host/db?password=secret&sslmode=disable", "postgres://user@host/db?password=***&sslmode=disable"),
        ("postgres://u:one@h/db?application_name=x&password=two", "postgres://u:***@h/db?application_name=x&password=***"),
        ("postgres://host/db", "postgres://host/db"),
        ("dbname=postgres://u:secret@h/db host=x", "dbname=postgres://u:***@h/db host=x"),
        ("", ""),
    ])
    func redactHidesPasswords(input: String, expected: String) {
        #expect(ConnectionString.redact(input) == expected)
    }

    @Test func resolvePrefersExplicitThenDatabaseURL() {
        let environment = ["DATABASE_URL": "postgres://env/db", "PGHOST": "ignored"]
        #expect(ConnectionString.resolve(explicit: "host=cli", environment: environment) == "host=cli")
        #expect(ConnectionString.resolve(explicit: nil, environment: environment) == "postgres://env/db")
        #expect(ConnectionString.resolve(explicit: "", environment: environment) == "postgres://env/db")
        #expect(ConnectionString.resolve(explicit: nil, environment: ["PGHOST": "h"]) == "")
        #expect(ConnectionString.resolve(explicit: nil, environment: ["DATABASE_URL": ""]) == "")
    }

    @Test func scrubRemovesRawAndDecodedPasswords() {
        let uri = "postgres://u:p%40ss%3Aword9@h/db"
        let text = "could not connect: p@ss:word9 rejected, raw p%40ss%3Aword9, piece word9 here"
        let scrubbed = ConnectionString.scrub(text, conninfo: uri)
        #expect(!scrubbed.contains("p@ss:word9"))
        #expect(!scrubbed.contains("p%40ss%3Aword9"))
        #expect(!scrubbed.contains("word9"))
        #expect(scrubbed.hasPrefix("could not connect: *** rejected"))

        let keyValue = "host=h password='it\\'s s3cret'"
        #expect(ConnectionString.scrub("bad: it's s3cret!", conninfo: keyValue) == "bad: ***!")
        #expect(ConnectionString.scrub("nothing to hide", conninfo: "host=h") == "nothing to hide")
    }

    @Test func quoteValueQuotesOnlyWhenNeeded() {
        #expect(ConnectionString.quoteValue("/tmp/sock") == "/tmp/sock")
        #expect(ConnectionString.quoteValue("my db") == "'my db'")
        #expect(ConnectionString.quoteValue("it's") == "'it\\'s'")
        #expect(ConnectionString.quoteValue("") == "''")
    }
}
