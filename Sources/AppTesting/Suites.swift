import AtlassianAdmin
import Foundation

/// The default functional suites. Each scenario cleans up what it created (registered as soon as
/// it exists, so a later failed step still removes it); a unique word in every title
/// (`App-Tester relay…`) marks the content and lets searches find exactly it. A search for
/// content just written retries until the index shows it, up to `searchWait` (a Data Center
/// cluster replicates its index between nodes asynchronously); the step's time includes the wait.
public enum Suites {
    /// Jira: log in, view the dashboard, create, view, edit and comment an issue, JQL search.
    ///
    /// - Parameters:
    ///   - project: the project key issues are created in.
    ///   - issueType: the issue type's name, as the project's scheme has it.
    ///   - searchWait: the longest a search waits for the new issue to be indexed.
    public static func jira(project: String = "DEMO", issueType: String = "Task", searchWait: Duration = .seconds(30))
        -> [Scenario]
    {
        [
            Scenario(
                "jira: log in and view dashboard",
                steps: [
                    Step("log in") { context in
                        let user = try await context.requireJira().myself()
                        try check(!user.name.isEmpty, "Jira answered /myself without a user name")
                    },
                    Step("view dashboard") { context in
                        let dashboards = try await context.requireJira().dashboards()
                        try check(!dashboards.isEmpty, "Jira lists no dashboard")
                    },
                ]),
            Scenario(
                "jira: issue lifecycle",
                steps: [
                    Step("create issue") { context in
                        let jira = try context.requireJira()
                        let word = "relay\(UUID().uuidString.prefix(8).lowercased())"
                        let key = try await jira.createIssue(project: project, summary: "App-Tester \(word)", type: issueType)
                        context.set("issue", key)
                        context.set("word", word)
                        context.onCleanup("delete issue \(key)") { try await jira.deleteIssue(key) }
                    },
                    Step("view issue") { context in
                        let issue = try await context.requireJira().issue(try context.value("issue"))
                        let summary = (issue["fields"] as? JSONObject)?["summary"] as? String
                        try check(
                            summary?.contains(try context.value("word")) == true,
                            "the issue's summary is '\(summary ?? "none")', not the one created")
                    },
                    Step("edit issue") { context in
                        let jira = try context.requireJira()
                        let key = try context.value("issue")
                        try await jira.editIssue(key, fields: ["description": "edited by App-Tester"])
                        let description =
                            (try await jira.issue(key)["fields"] as? JSONObject)?["description"] as? String
                        try check(
                            description == "edited by App-Tester", "the edit did not stick: '\(description ?? "none")'")
                    },
                    Step("add comment") { context in
                        let jira = try context.requireJira()
                        let key = try context.value("issue")
                        try await jira.addComment(key, "comment from App-Tester")
                        let comments =
                            ((try await jira.issue(key)["fields"] as? JSONObject)?["comment"] as? JSONObject)?["total"]
                            as? Int
                        try check(comments == 1, "the issue has \(comments ?? 0) comments after adding one")
                    },
                    Step("search JQL") { context in
                        let word = try context.value("word")
                        try await eventually(within: searchWait) {
                            let keys = try await context.requireJira().search(
                                jql: "project = \(project) AND summary ~ \"\(word)\"")
                            try check(
                                keys == [try context.value("issue")], "JQL for '\(word)' found \(keys), not the new issue")
                        }
                    },
                ]),
        ]
    }

    /// Confluence: log in, create, view and edit a page, comment, attach and download a file,
    /// CQL search.
    ///
    /// - Parameters:
    ///   - space: the space key pages are created in.
    ///   - searchWait: the longest a search waits for the new page to be indexed.
    public static func confluence(space: String = "DEMO", searchWait: Duration = .seconds(30)) -> [Scenario] {
        [
            Scenario(
                "confluence: log in",
                steps: [
                    Step("log in") { context in
                        let user = try await context.requireConfluence().currentUser()
                        try check(user.username?.isEmpty == false, "Confluence answered without a user name")
                    }
                ]),
            Scenario(
                "confluence: page lifecycle",
                steps: [
                    Step("create page") { context in
                        let confluence = try context.requireConfluence()
                        let word = "relay\(UUID().uuidString.prefix(8).lowercased())"
                        let id = try await confluence.createPage(
                            space: space, title: "App-Tester \(word)", body: "<p>new</p>")
                        context.set("page", id)
                        context.set("word", word)
                        context.onCleanup("delete page \(id)") { try await confluence.deletePage(id) }
                    },
                    Step("view page") { context in
                        let page = try await context.requireConfluence().page(try context.value("page"))
                        let title = page["title"] as? String
                        try check(
                            title?.contains(try context.value("word")) == true,
                            "the page's title is '\(title ?? "none")'")
                    },
                    Step("edit page") { context in
                        let confluence = try context.requireConfluence()
                        let id = try context.value("page")
                        try await confluence.editPage(
                            id, title: "App-Tester \(try context.value("word")) edited", body: "<p>edited</p>")
                        let version = (try await confluence.page(id)["version"] as? JSONObject)?["number"] as? Int
                        try check(version == 2, "the page is at version \(version ?? 0) after one edit, not 2")
                    },
                    Step("comment page") { context in
                        try await context.requireConfluence().addComment(
                            toPage: try context.value("page"), "<p>comment</p>")
                    },
                    Step("upload and download attachment") { context in
                        let confluence = try context.requireConfluence()
                        let id = try context.value("page")
                        let bytes = Data((0..<4096).map { UInt8($0 % 251) })
                        try await confluence.attach(toPage: id, name: "app-tester.bin", data: bytes)
                        let back = try await confluence.download(page: id, name: "app-tester.bin")
                        try check(
                            back == bytes,
                            "the downloaded attachment differs (\(back.count) bytes back of \(bytes.count))")
                    },
                    Step("search CQL") { context in
                        let word = try context.value("word")
                        try await eventually(within: searchWait) {
                            let ids = try await context.requireConfluence().search(
                                cql: "space = \(space) AND title ~ \"\(word)\"")
                            try check(
                                ids == [try context.value("page")], "CQL for '\(word)' found \(ids), not the new page")
                        }
                    },
                ]),
        ]
    }
}
