import AtlassianAdmin
import Foundation

/// DCAPT's action mixes (its JMeter action names and percentages), for Jira and Confluence.
/// Actions the simulator and this package do not model (boards, blogs' creation, likes) are left
/// out; the weights of the others keep DCAPT's proportions.
public enum Mixes {
    /// The mix of `product`: ``jira(project:)`` in `project` or ``confluence(space:)`` in `space`.
    public static func mix(for product: Product, project: String = "DEMO", space: String = "DEMO") -> (
        actions: [PerfAction], prepare: @Sendable (TestContext) async throws -> Void
    ) {
        switch product {
        case .jira: jira(project: project)
        case .confluence: confluence(space: space)
        }
    }

    static func pick(_ list: String) -> String? {
        let items = list.split(separator: ",")
        return items.randomElement().map(String.init)
    }

    /// Jira: view issue 34, JQL search 11, view dashboard 10, edit issue 5, create issue 4,
    /// add comment 2. `prepare` lists up to 200 issues of `project` to view.
    public static func jira(project: String = "DEMO") -> (
        actions: [PerfAction], prepare: @Sendable (TestContext) async throws -> Void
    ) {
        let actions = [
            PerfAction("jmeter_view_issue", weight: 34) { context in
                guard let key = pick(try context.value("issues")) else {
                    throw CheckFailed("no issue to view", kind: .missingPrerequisite)
                }
                _ = try await context.requireJira().issue(key)
            },
            PerfAction("jmeter_search_jql", weight: 11) { context in
                _ = try await context.requireJira().search(
                    jql: "project = \(project) ORDER BY created DESC", maxResults: 20)
            },
            PerfAction("jmeter_view_dashboard", weight: 10) { context in
                _ = try await context.requireJira().dashboards()
            },
            PerfAction("jmeter_edit_issue", weight: 5) { context in
                guard let key = pick(try context.value("issues")) else {
                    throw CheckFailed("no issue to edit", kind: .missingPrerequisite)
                }
                try await context.requireJira().editIssue(key, fields: ["description": "Perf-Tester \(Date())"])
            },
            PerfAction("jmeter_create_issue", weight: 4) { context in
                _ = try await context.requireJira().createIssue(project: project, summary: "Perf-Tester issue")
            },
            PerfAction("jmeter_add_comment", weight: 2) { context in
                guard let key = pick(try context.value("issues")) else {
                    throw CheckFailed("no issue to comment", kind: .missingPrerequisite)
                }
                try await context.requireJira().addComment(key, "Perf-Tester comment")
            },
        ]
        return (
            actions,
            { context in
                let keys = try await context.requireJira().search(jql: "project = \(project)", maxResults: 200)
                try check(!keys.isEmpty, "project \(project) has no issues to view; seed it or choose another project")
                context.set("issues", keys.joined(separator: ","))
            }
        )
    }

    /// Confluence: view page 33, view blog 13, create and edit page 9, comment page 8, upload
    /// attachment 7, CQL search 4. `prepare` lists the pages of `space`.
    public static func confluence(space: String = "DEMO") -> (
        actions: [PerfAction], prepare: @Sendable (TestContext) async throws -> Void
    ) {
        let actions = [
            PerfAction("jmeter_view_page", weight: 33) { context in
                guard let id = pick(try context.value("pages")) else {
                    throw CheckFailed("no page to view", kind: .missingPrerequisite)
                }
                _ = try await context.requireConfluence().page(id)
            },
            PerfAction("jmeter_view_blog", weight: 13) { context in
                guard let id = pick(try context.value("pages")) else {
                    throw CheckFailed("no blog to view", kind: .missingPrerequisite)
                }
                _ = try await context.requireConfluence().page(id)
            },
            PerfAction("jmeter_create_and_edit_page", weight: 9) { context in
                let confluence = try context.requireConfluence()
                let id = try await confluence.createPage(
                    space: space, title: "Perf-Tester \(UUID().uuidString)", body: "<p>new</p>")
                try await confluence.editPage(id, title: "Perf-Tester \(id) edited", body: "<p>edited</p>")
            },
            PerfAction("jmeter_comment_page", weight: 8) { context in
                guard let id = pick(try context.value("pages")) else {
                    throw CheckFailed("no page to comment", kind: .missingPrerequisite)
                }
                try await context.requireConfluence().addComment(toPage: id, "<p>Perf-Tester</p>")
            },
            PerfAction("jmeter_upload_attachment", weight: 7) { context in
                guard let id = pick(try context.value("pages")) else {
                    throw CheckFailed("no page to attach to", kind: .missingPrerequisite)
                }
                try await context.requireConfluence().attach(
                    toPage: id, name: "perf-\(UUID().uuidString).bin", data: Data(count: 2048))
            },
            PerfAction("jmeter_search_cql", weight: 4) { context in
                _ = try await context.requireConfluence().search(cql: "space = \(space) AND type = page")
            },
        ]
        return (
            actions,
            { context in
                let ids = try await context.requireConfluence().search(cql: "space = \(space) AND type = page")
                try check(!ids.isEmpty, "space \(space) has no pages to view; seed it or choose another space")
                context.set("pages", ids.joined(separator: ","))
            }
        )
    }
}
