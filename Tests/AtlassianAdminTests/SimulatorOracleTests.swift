import AtlasRelayTestSupport
import AtlassianSimulator
import Foundation
import NIOHTTP1
import RelayFoundation
import Testing

@testable import AtlassianAdmin

/// The simulator as an independent oracle: on a real product database it serves the dump's own
/// rows, writes into the product's own tables (checked here with psql), reads settings and users
/// as the products store them, and fails loudly when a restore left tables out.
struct SimulatorOracleTests {
    static let admin = SimulatorFixtures.admin

    static func json(_ connection: AtlassianConnection, _ method: HTTPMethod, _ path: String, _ body: Any? = nil)
        async throws -> (Int, [String: Any])
    {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, answer) = try await connection.raw(method, path, body: data)
        return (status, (try? JSONSerialization.jsonObject(with: answer)) as? [String: Any] ?? [:])
    }

    @Test func jiraIssuesAreTheDumpsRowsAndWritesLandInJiraissueAndJiraaction() async throws {
        try await SimulatorFixtures.withSimulator(.jira) { simulator, url in
            let jira = try AtlassianConnection(baseURL: simulator.baseURL, credentials: Self.admin)
            let (status, issue) = try await Self.json(jira, .GET, "/rest/api/2/issue/TEST-1")
            #expect(status == 200)
            #expect((issue["fields"] as? [String: Any])?["summary"] as? String == "test1")
            let (_, byId) = try await Self.json(jira, .GET, "/rest/api/2/issue/10000")
            #expect(byId["key"] as? String == "TEST-1")
            let (_, all) = try await Self.json(jira, .GET, "/rest/api/2/search?jql=project%20%3D%20TEST&maxResults=200")
            #expect(all["total"] as? Int == 25)

            let counter = try await SimulatorFixtures.psql(url, "SELECT pcounter::bigint FROM project WHERE pkey = 'TEST'")
            let sequence = try await SimulatorFixtures.psql(
                url, "SELECT seq_id::bigint FROM sequence_value_item WHERE seq_name = 'Issue'")
            let (created, answer) = try await Self.json(
                jira, .POST, "/rest/api/2/issue",
                [
                    "fields": [
                        "project": ["key": "TEST"], "summary": "oracle check", "description": "written over REST",
                        "issuetype": ["name": "Task"],
                    ]
                ])
            #expect(created == 201)
            let key = try #require(answer["key"] as? String)
            #expect(key == "TEST-\(try #require(Int(counter)) + 1)")
            // Jira's own rows: the id is the first of a new OFBiz bank, the number the project's counter.
            #expect(
                try await SimulatorFixtures.psql(
                    url,
                    """
                    SELECT i.id::bigint, i.issuenum::bigint, t.pname, i.summary, i.description FROM jiraissue i
                    JOIN project p ON p.id = i.project JOIN issuetype t ON t.id = i.issuetype
                    WHERE p.pkey = 'TEST' AND i.summary = 'oracle check'
                    """) == "\(sequence)|\(Int(counter)! + 1)|Task|oracle check|written over REST")
            #expect(try await SimulatorFixtures.psql(url, "SELECT pcounter::bigint FROM project WHERE pkey = 'TEST'") == "\(Int(counter)! + 1)")
            #expect(
                try await SimulatorFixtures.psql(
                    url, "SELECT seq_id::bigint FROM sequence_value_item WHERE seq_name = 'Issue'") == "\(Int(sequence)! + 100)")

            // The next issue comes from the same bank: no second bank is taken.
            let (second, secondAnswer) = try await Self.json(
                jira, .POST, "/rest/api/2/issue",
                ["fields": ["project": ["key": "TEST"], "summary": "second", "issuetype": ["name": "Story"]]])
            #expect(second == 201 && secondAnswer["id"] as? String == "\(Int(sequence)! + 1)")
            #expect(
                try await SimulatorFixtures.psql(
                    url, "SELECT seq_id::bigint FROM sequence_value_item WHERE seq_name = 'Issue'") == "\(Int(sequence)! + 100)")

            let (commented, _) = try await Self.json(
                jira, .POST, "/rest/api/2/issue/\(key)/comment", ["body": "an oracle comment"])
            #expect(commented == 201)
            #expect(
                try await SimulatorFixtures.psql(
                    url,
                    "SELECT a.actiontype, a.actionbody FROM jiraaction a JOIN jiraissue i ON i.id = a.issueid WHERE i.summary = 'oracle check'"
                ) == "comment|an oracle comment")
            let (_, found) = try await Self.json(
                jira, .GET, "/rest/api/2/search?jql=\(PercentEncoding.component("project = TEST AND summary ~ \"oracle\""))")
            #expect((found["issues"] as? [[String: Any]])?.compactMap { $0["key"] as? String } == [key])

            // An issue written by SQL is served.
            try await SimulatorFixtures.psql(url, "UPDATE jiraissue SET summary = 'changed by SQL' WHERE id = 10000")
            let (_, changed) = try await Self.json(jira, .GET, "/rest/api/2/issue/TEST-1")
            #expect((changed["fields"] as? [String: Any])?["summary"] as? String == "changed by SQL")

            // Jira's 400s for an unknown project or issue type; nothing is written.
            let (badProject, projectError) = try await Self.json(
                jira, .POST, "/rest/api/2/issue",
                ["fields": ["project": ["key": "NOPE"], "summary": "x", "issuetype": ["name": "Task"]]])
            #expect(badProject == 400 && (projectError["errors"] as? [String: String])?["project"] != nil)
            let (badType, typeError) = try await Self.json(
                jira, .POST, "/rest/api/2/issue",
                ["fields": ["project": ["key": "TEST"], "summary": "x", "issuetype": ["name": "Nonsense"]]])
            #expect(badType == 400 && (typeError["errors"] as? [String: String])?["issuetype"] != nil)
            let (badJQL, _) = try await Self.json(jira, .GET, "/rest/api/2/search?jql=project%20%3D%20NOPE")
            #expect(badJQL == 400)
            #expect(try await SimulatorFixtures.psql(url, "SELECT count(*) FROM jiraissue WHERE summary = 'x'") == "0")

            let (deleted, _) = try await Self.json(jira, .DELETE, "/rest/api/2/issue/\(key)")
            #expect(deleted == 204)
            #expect(try await SimulatorFixtures.psql(url, "SELECT count(*) FROM jiraissue WHERE summary = 'oracle check'") == "0")
        }
    }

    @Test func confluencePagesAreTheDumpsRowsAndWritesLandInContentAndTheSharedHome() async throws {
        try await SimulatorFixtures.withSimulator(.confluence) { simulator, url in
            let confluence = try AtlassianConnection(baseURL: simulator.baseURL, credentials: Self.admin)
            let (status, page) = try await Self.json(confluence, .GET, "/rest/api/content/360451")
            #expect(status == 200 && page["title"] as? String == "TEST")
            #expect((page["space"] as? [String: Any])?["key"] as? String == "TEST")
            let (_, pages) = try await Self.json(
                confluence, .GET, "/rest/api/content/search?cql=\(PercentEncoding.component("space = TEST AND type = page"))")
            #expect((pages["results"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["360451", "360467"])

            let (created, answer) = try await Self.json(
                confluence, .POST, "/rest/api/content",
                [
                    "type": "page", "title": "Oracle page", "space": ["key": "TEST"],
                    "body": ["storage": ["value": "<p>first</p>", "representation": "storage"]],
                ])
            #expect(created == 200)
            let id = try #require(answer["id"] as? String)
            #expect(
                try await SimulatorFixtures.psql(
                    url,
                    """
                    SELECT c.contenttype, c.title, c.version, c.content_status, s.spacekey, b.body FROM content c
                    JOIN spaces s ON s.spaceid = c.spaceid JOIN bodycontent b ON b.contentid = c.contentid
                    WHERE c.contentid = \(id)
                    """) == "PAGE|Oracle page|1|current|TEST|<p>first</p>")
            // The id comes from Hibernate's hi/lo: a block above what hibernate_unique_key had handed out.
            let nextHi = try #require(Int(try await SimulatorFixtures.psql(url, "SELECT next_hi FROM hibernate_unique_key")))
            #expect(Int(id)! / 32_768 == nextHi - 1)

            let (updated, _) = try await Self.json(
                confluence, .PUT, "/rest/api/content/\(id)",
                [
                    "type": "page", "title": "Oracle page", "version": ["number": 2],
                    "body": ["storage": ["value": "<p>second</p>", "representation": "storage"]],
                ])
            #expect(updated == 200)
            // Confluence keeps the old version as a row of its own pointing at the current one.
            #expect(
                try await SimulatorFixtures.psql(
                    url,
                    """
                    SELECT c.version, b.body FROM content c JOIN bodycontent b ON b.contentid = c.contentid
                    WHERE c.contentid = \(id) OR c.prevver = \(id) ORDER BY c.version
                    """) == "1|<p>first</p>\n2|<p>second</p>")
            let (stale, _) = try await Self.json(
                confluence, .PUT, "/rest/api/content/\(id)", ["type": "page", "title": "x", "version": ["number": 2]])
            #expect(stale == 409)

            let bytes = Data((0..<5000).map { UInt8($0 % 253) })
            let boundary = "oracle-boundary"
            var body = Data(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"oracle.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    .utf8)
            body += bytes + Data("\r\n--\(boundary)--\r\n".utf8)
            let (attached, _) = try await confluence.raw(
                .POST, "/rest/api/content/\(id)/child/attachment", body: body,
                contentType: "multipart/form-data; boundary=\(boundary)", headers: [("X-Atlassian-Token", "no-check")])
            #expect(attached == 200)
            let row = try await SimulatorFixtures.psql(
                url,
                """
                SELECT c.contentid, c.spaceid, p.longval FROM content c
                JOIN contentproperties p ON p.contentid = c.contentid AND p.propertyname = 'FILESIZE'
                WHERE c.pageid = \(id) AND c.contenttype = 'ATTACHMENT' AND c.title = 'oracle.bin'
                """
            ).split(separator: "|").compactMap { Int($0) }
            #expect(row.count == 3 && row.last == 5000)
            // Confluence's layout, computed here from the documentation's table.
            let (attachment, space, page360) = (row[0], row[1], Int(id)!)
            let home = try #require(simulator.configuration.sharedHome)
            let file = home.appendingPathComponent(
                "attachments/ver003/\(space % 1000 % 250)/\(space / 1000 % 1000 % 250)/\(space)/"
                    + "\(page360 % 1000 % 250)/\(page360 / 1000 % 1000 % 250)/\(page360)/\(attachment)/1")
            #expect(FileManager.default.contents(atPath: file.path) == bytes)
            let (downloaded, data) = try await confluence.raw(.GET, "/download/attachments/\(id)/oracle.bin")
            #expect(downloaded == 200 && data == bytes)
            // The bytes are the shared home's: gone from there, the download fails.
            try FileManager.default.removeItem(at: file)
            #expect(try await confluence.raw(.GET, "/download/attachments/\(id)/oracle.bin").status == 404)

            let (trashed, _) = try await confluence.raw(.DELETE, "/rest/api/content/\(id)")
            #expect(trashed == 204)
            #expect(try await SimulatorFixtures.psql(url, "SELECT content_status FROM content WHERE contentid = \(id)") == "deleted")
            #expect(try await confluence.raw(.GET, "/rest/api/content/\(id)").status == 404)
        }
    }

    @Test func settingsWrittenBySQLShowInServerInfo() async throws {
        try await SimulatorFixtures.withSimulator(.jira) { simulator, url in
            try await SimulatorFixtures.psql(
                url,
                """
                UPDATE propertystring SET propertyvalue = 'Jira (restored)' WHERE id =
                  (SELECT id FROM propertyentry WHERE entity_name = 'jira.properties' AND property_key = 'jira.title');
                UPDATE propertystring SET propertyvalue = '810000' WHERE id =
                  (SELECT id FROM propertyentry WHERE entity_name = 'jira.properties' AND property_key = 'jira.version.patched');
                """)
            let info = try await JiraClient(baseURL: simulator.baseURL, credentials: nil).serverInfo()
            #expect(info.serverTitle == "Jira (restored)" && info.buildNumber == 810_000)
        }
        try await SimulatorFixtures.withSimulator(.confluence) { simulator, url in
            try await SimulatorFixtures.psql(
                url,
                """
                UPDATE bandana SET bandanavalue = replace(replace(bandanavalue,
                  '<baseUrl>https://confluence.example.com</baseUrl>', '<baseUrl>https://confluence.dev.example.com</baseUrl>'),
                  '<siteTitle>Confluence</siteTitle>', '<siteTitle>Confluence (DEV)</siteTitle>')
                WHERE bandanacontext = '_GLOBAL' AND bandanakey = 'atlassian.confluence.settings';
                UPDATE confversion SET buildnumber = 9012;
                """)
            let info = try await ConfluenceClient(baseURL: simulator.baseURL, credentials: nil).serverInformation()
            #expect(info.baseUrl == "https://confluence.dev.example.com" && info.buildNumber == 9012)
            let (_, raw) = try await ConfluenceClient(baseURL: simulator.baseURL, credentials: nil).connection.raw(
                .GET, "/rest/api/server-information")
            #expect(String(decoding: raw, as: UTF8.self).contains("Confluence (DEV)"))
        }
    }

    @Test func basicAuthChecksTheDatabasesUsersAndGroups() async throws {
        try await SimulatorFixtures.withSimulator(.jira, users: []) { simulator, url in
            let credential = try await SimulatorFixtures.pkcs5s2("pengwinn-Secret-1")
            try await SimulatorFixtures.psql(url, "UPDATE cwd_user SET credential = '\(credential)' WHERE user_name = 'pengwinn'")
            let right = try JiraClient(
                baseURL: simulator.baseURL, credentials: .basic(user: "pengwinn", password: "pengwinn-Secret-1"))
            #expect(try await right.myself().name == "pengwinn")
            // jira-administrators membership: admin endpoints answer.
            #expect(try await right.applicationProperty("jira.title")?.value == "Jira")
            let wrong = try JiraClient(
                baseURL: simulator.baseURL, credentials: .basic(user: "pengwinn", password: "pengwinn-Secret-2"))
            #expect(try await #require(throws: AtlassianError.self) { try await wrong.myself() }.status == 401)
            // With no configured accounts the sandbox's are refused.
            let sandbox = try JiraClient(baseURL: simulator.baseURL, credentials: Self.admin)
            #expect(try await #require(throws: AtlassianError.self) { try await sandbox.myself() }.status == 401)

            try await SimulatorFixtures.psql(
                url, "DELETE FROM cwd_membership WHERE lower_child_name = 'pengwinn' AND lower_parent_name = 'jira-administrators'")
            #expect(
                try await #require(throws: AtlassianError.self) { try await right.applicationProperty("jira.title") }
                    .status == 403)
            try await SimulatorFixtures.psql(url, "UPDATE cwd_user SET active = 0 WHERE user_name = 'pengwinn'")
            #expect(try await #require(throws: AtlassianError.self) { try await right.myself() }.status == 401)
        }
        try await SimulatorFixtures.withSimulator(.confluence, users: []) { simulator, url in
            let credential = try await SimulatorFixtures.pkcs5s2("conf-Admin-1")
            try await SimulatorFixtures.psql(url, "UPDATE cwd_user SET credential = '\(credential)' WHERE user_name = 'admin'")
            let admin = try ConfluenceClient(
                baseURL: simulator.baseURL, credentials: .basic(user: "admin", password: "conf-Admin-1"))
            #expect(try await admin.currentUser().username == "admin")
            _ = try await admin.colorScheme()  // confluence-administrators
            let wrong = try ConfluenceClient(
                baseURL: simulator.baseURL, credentials: .basic(user: "admin", password: "admin"))
            #expect(try await #require(throws: AtlassianError.self) { try await wrong.currentUser() }.status == 401)
        }
    }

    @Test func aTruncatedRestoreMakesReadsFailInsteadOfServingStaleData() async throws {
        try await SimulatorFixtures.withSimulator(.jira) { simulator, url in
            let jira = try AtlassianConnection(baseURL: simulator.baseURL, credentials: Self.admin)
            #expect(try await jira.raw(.GET, "/rest/api/2/issue/TEST-1").status == 200)
            try await SimulatorFixtures.psql(url, "DROP TABLE jiraissue CASCADE")
            let (status, body) = try await jira.raw(.GET, "/rest/api/2/issue/TEST-1")
            #expect(status == 500 && String(decoding: body, as: UTF8.self).contains("jiraissue"))
            #expect(try await jira.raw(.GET, "/rest/api/2/search?jql=project%20%3D%20TEST").status == 500)
            let reindex = try await jira.raw(.POST, "/rest/api/2/reindex?type=BACKGROUND")
            #expect(reindex.status == 500)
        }
        try await SimulatorFixtures.withSimulator(.confluence) { simulator, url in
            let confluence = try AtlassianConnection(baseURL: simulator.baseURL, credentials: Self.admin)
            try await SimulatorFixtures.psql(url, "DROP TABLE bodycontent CASCADE")
            #expect(try await confluence.raw(.GET, "/rest/api/content/360451").status == 500)
            try await SimulatorFixtures.psql(
                url, "DELETE FROM bandana WHERE bandanacontext = '_GLOBAL' AND bandanakey = 'atlassian.confluence.settings'")
            #expect(try await confluence.raw(.GET, "/rest/api/server-information").status == 500)
        }
    }

    @Test func jiraReindexAdvancesOverPollsAndReportsAnIndexError() async throws {
        try await SimulatorFixtures.withSimulator(.jira, reindexPolls: 3) { simulator, _ in
            let jira = try AtlassianConnection(baseURL: simulator.baseURL, credentials: Self.admin)
            #expect(try await jira.raw(.GET, "/rest/api/2/reindex").status == 404)
            let (started, bean) = try await Self.json(jira, .POST, "/rest/api/2/reindex?type=BACKGROUND_PREFERRED")
            #expect(started == 202 && bean["success"] as? Bool == false && bean["currentProgress"] as? Int == 0)
            #expect(bean["type"] as? String == "BACKGROUND_PREFERRED" && bean["submittedTime"] is String)
            let progressURL = try #require(bean["progressUrl"] as? String)
            let taskId = try #require(progressURL.components(separatedBy: "taskId=").last)
            var seen: [Int] = []
            var last: [String: Any] = [:]
            for _ in 0..<3 {
                (_, last) = try await Self.json(jira, .GET, "/rest/api/2/reindex/progress?taskId=\(taskId)")
                seen.append(last["currentProgress"] as? Int ?? -1)
            }
            #expect(seen == seen.sorted() && seen.last == 100 && seen.first! < 100)
            #expect(last["success"] as? Bool == true && last["finishTime"] is String)
            #expect(try await Self.json(jira, .GET, "/rest/api/2/reindex").1["progressUrl"] as? String == progressURL)

            simulator.setReindexFault("Index directory is not writable")
            let (_, failing) = try await Self.json(jira, .POST, "/rest/api/2/reindex?type=FOREGROUND")
            let failingId = try #require((failing["progressUrl"] as? String)?.components(separatedBy: "taskId=").last)
            for _ in 0..<3 { (_, last) = try await Self.json(jira, .GET, "/rest/api/2/reindex/progress?taskId=\(failingId)") }
            #expect(last["success"] as? Bool == false && last["finishTime"] is String)
            #expect((last["currentSubTask"] as? String)?.contains("not writable") == true)
            #expect(try await jira.raw(.GET, "/rest/api/2/reindex/progress?taskId=999").status == 404)

            let viewer = try AtlassianConnection(
                baseURL: simulator.baseURL, credentials: .basic(user: "viewer", password: "viewer"))
            #expect(try await viewer.raw(.POST, "/rest/api/2/reindex?type=BACKGROUND").status == 403)
        }
    }
}
