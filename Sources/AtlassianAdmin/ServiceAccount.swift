import Foundation
import Logging
import PostgresNIO

/// The refresher's own account in a restored product database: after a restore every user,
/// password and token is PROD's, so the refresher sets its own user (from the target's
/// ``AtlassianCredentials/basic(user:password:)``) in the internal directory before the first
/// start, active, with its password hashed as Atlassian does (``PKCS5S2``), and in the
/// administrators group (`jira-administrators`, `confluence-administrators`). The steps are
/// ``SanitisationStep/jiraServiceAccount`` and ``SanitisationStep/confluenceServiceAccount``.
///
/// `description` never shows the password.
public struct ServiceAccount: Sendable, CustomStringConvertible {
    /// The user name.
    public let user: String
    let password: String

    /// An account with `user` and `password`.
    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The account of Basic credentials; nil for a token (a personal access token lives in the
    /// restored database as PROD's tokens do, and cannot be set by the refresher) or none.
    public init?(_ credentials: AtlassianCredentials?) {
        guard case .basic(let user, let password)? = credentials else { return nil }
        self.init(user: user, password: password)
    }

    public var description: String { "service account \(user) (password redacted)" }

    static let noAccount =
        "the target has no Basic credentials (user and password): the refresher's REST access after start relies "
        + "on PROD's users and tokens"

    // MARK: - Jira

    static let jiraAction = SanitisationAction(
        step: .jiraServiceAccount, needs: ["cwd_user", "cwd_directory", "cwd_group", "cwd_membership", "app_user"],
        find: { connection, input in
            guard let account = input.context.serviceAccount else { return ([], noAccount) }
            return (try await jiraState(account, connection, input.logger).items(account, group: jiraGroup), nil)
        },
        change: { connection, items, input in
            guard let account = input.context.serviceAccount else { return }
            let logger = input.logger
            let state = try await jiraState(account, connection, logger)
            let lower = account.user.lowercased()
            var userId = state.userId
            if let id = userId, !state.isActive || !state.passwordMatches {
                _ = try await connection.query(
                    """
                    UPDATE cwd_user SET active = 1, credential = \(PKCS5S2.hash(account.password)),
                        updated_date = now()
                    WHERE id = \(id)
                    """, logger: logger)
            } else if userId == nil {
                let id = try await Sanitisation.nextJiraId(connection, sequence: "User", table: "cwd_user", logger)
                userId = id
                _ = try await connection.query(
                    """
                    INSERT INTO cwd_user (id, directory_id, user_name, lower_user_name, active, created_date, updated_date,
                        first_name, lower_first_name, last_name, lower_last_name, display_name, lower_display_name,
                        email_address, lower_email_address, credential, deleted_externally, external_id)
                    VALUES (\(id), \(state.directory), \(account.user), \(lower), 1, now(), now(),
                        '', '', \(account.user), \(lower), \(account.user), \(lower),
                        '', '', \(PKCS5S2.hash(account.password)), NULL, \(UUID().uuidString.lowercased()))
                    """, logger: logger)
            }
            if !state.hasAppUser {
                let id = try await Sanitisation.nextJiraId(
                    connection, sequence: "ApplicationUser", table: "app_user", logger)
                _ = try await connection.query(
                    "INSERT INTO app_user (id, user_key, lower_user_name) VALUES (\(id), \("JIRAUSER\(id)"), \(lower))",
                    logger: logger)
            }
            if !state.isMember {
                let id = try await Sanitisation.nextJiraId(
                    connection, sequence: "Membership", table: "cwd_membership", logger)
                _ = try await connection.query(
                    """
                    INSERT INTO cwd_membership (id, parent_id, child_id, membership_type, group_type, parent_name,
                        lower_parent_name, child_name, lower_child_name, directory_id)
                    VALUES (\(id), \(state.groupId), \(userId!), 'GROUP_USER', NULL, \(state.groupName), \(jiraGroup),
                        \(account.user), \(lower), \(state.directory))
                    """, logger: logger)
            }
        })

    static let jiraGroup = "jira-administrators"

    /// What the database holds for the account now.
    struct State {
        var directory: Int64
        var userId: Int64?
        var isActive: Bool
        var passwordMatches: Bool
        var hasAppUser: Bool
        var groupId: Int64
        var groupName: String
        var isMember: Bool

        func items(_ account: ServiceAccount, group: String) -> [SanitisationItem] {
            var items: [SanitisationItem] = []
            if userId == nil {
                items.append(.init(id: "user", line: "cwd_user '\(account.user)' created in directory \(directory)"))
            } else {
                if !isActive { items.append(.init(id: "active", line: "cwd_user '\(account.user)' activated")) }
                if !passwordMatches {
                    items.append(.init(id: "password", line: "cwd_user '\(account.user)': password set ({PKCS5S2})"))
                }
            }
            if !hasAppUser { items.append(.init(id: "key", line: "user key of '\(account.user)' created")) }
            if !isMember { items.append(.init(id: "member", line: "'\(account.user)' added to \(group)")) }
            return items
        }
    }

    static func jiraState(_ account: ServiceAccount, _ connection: PostgresConnection, _ logger: Logger) async throws
        -> State
    {
        let lower = account.user.lowercased()
        guard
            let directory = try await Sanitisation.rows(
                connection,
                """
                SELECT id::bigint FROM cwd_directory WHERE directory_type = 'INTERNAL' AND active = 1
                ORDER BY directory_position, id LIMIT 1
                """, logger, as: Int64.self
            ).first
        else {
            throw AtlassianError(
                .invalidInput,
                "the Jira database has no active internal directory (cwd_directory); the service account cannot be set")
        }
        let user = try await Sanitisation.rows(
            connection,
            """
            SELECT id::bigint, active::int, COALESCE(credential, '') FROM cwd_user
            WHERE lower_user_name = \(lower) AND directory_id = \(directory)
            """, logger, as: (Int64, Int, String).self
        ).first
        guard
            let group = try await Sanitisation.rows(
                connection,
                "SELECT id::bigint, group_name FROM cwd_group WHERE lower_group_name = \(jiraGroup) AND directory_id = \(directory)",
                logger, as: (Int64, String).self
            ).first
        else {
            throw AtlassianError(
                .invalidInput,
                "the Jira database has no group \(jiraGroup) in its internal directory; the service account cannot be made an administrator"
            )
        }
        let hasAppUser =
            !(try await Sanitisation.rows(
                connection, "SELECT id::bigint FROM app_user WHERE lower_user_name = \(lower)", logger, as: Int64.self
            ).isEmpty)
        var isMember = false
        if let user {
            isMember =
                !(try await Sanitisation.rows(
                    connection,
                    """
                    SELECT id::bigint FROM cwd_membership
                    WHERE parent_id = \(group.0) AND child_id = \(user.0) AND membership_type = 'GROUP_USER'
                    """, logger, as: Int64.self
                ).isEmpty)
        }
        return State(
            directory: directory, userId: user?.0, isActive: user?.1 == 1,
            passwordMatches: user.map { PKCS5S2.verify(account.password, against: $0.2) } ?? false,
            hasAppUser: hasAppUser, groupId: group.0, groupName: group.1, isMember: isMember)
    }

    // MARK: - Confluence

    static let confluenceGroup = "confluence-administrators"

    static let confluenceAction = SanitisationAction(
        step: .confluenceServiceAccount,
        needs: ["cwd_user", "cwd_directory", "cwd_group", "cwd_membership", "user_mapping"],
        find: { connection, input in
            guard let account = input.context.serviceAccount else { return ([], noAccount) }
            return (
                try await confluenceState(account, connection, input.logger).items(account, group: confluenceGroup), nil
            )
        },
        change: { connection, items, input in
            guard let account = input.context.serviceAccount else { return }
            let logger = input.logger
            let state = try await confluenceState(account, connection, logger)
            let lower = account.user.lowercased()
            let needed = (state.userId == nil ? 1 : 0) + (state.isMember ? 0 : 1)
            var ids = try await (needed > 0 ? Sanitisation.confluenceIds(needed, connection, logger) : [])
                .makeIterator()
            var userId = state.userId
            if let id = userId, !state.isActive || !state.passwordMatches {
                _ = try await connection.query(
                    """
                    UPDATE cwd_user SET active = 'T', credential = \(PKCS5S2.hash(account.password)),
                        updated_date = now()
                    WHERE id = \(id)
                    """, logger: logger)
            } else if userId == nil {
                let id = ids.next()!
                userId = id
                _ = try await connection.query(
                    """
                    INSERT INTO cwd_user (id, user_name, lower_user_name, active, created_date, updated_date,
                        first_name, lower_first_name, last_name, lower_last_name, display_name, lower_display_name,
                        email_address, lower_email_address, external_id, directory_id, credential)
                    VALUES (\(id), \(account.user), \(lower), 'T', now(), now(), '', '', \(account.user), \(lower),
                        \(account.user), \(lower), '', '', \(UUID().uuidString.lowercased()), \(state.directory),
                        \(PKCS5S2.hash(account.password)))
                    """, logger: logger)
            }
            if !state.hasAppUser {
                // Confluence's user keys are 32 hexadecimal digits.
                let key = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
                _ = try await connection.query(
                    "INSERT INTO user_mapping (user_key, username, lower_username) VALUES (\(key), \(account.user), \(lower))",
                    logger: logger)
            }
            if !state.isMember {
                _ = try await connection.query(
                    """
                    INSERT INTO cwd_membership (id, parent_id, child_group_id, child_user_id)
                    VALUES (\(ids.next()!), \(state.groupId), NULL, \(userId!))
                    """, logger: logger)
            }
        })

    static func confluenceState(_ account: ServiceAccount, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> State
    {
        let lower = account.user.lowercased()
        guard
            let directory = try await Sanitisation.rows(
                connection,
                "SELECT id FROM cwd_directory WHERE directory_type = 'INTERNAL' AND active = 'T' ORDER BY id LIMIT 1",
                logger, as: Int64.self
            ).first
        else {
            throw AtlassianError(
                .invalidInput,
                "the Confluence database has no active internal directory (cwd_directory); the service account cannot be set"
            )
        }
        let user = try await Sanitisation.rows(
            connection,
            """
            SELECT id, active::text, COALESCE(credential, '') FROM cwd_user
            WHERE lower_user_name = \(lower) AND directory_id = \(directory)
            """, logger, as: (Int64, String, String).self
        ).first
        guard
            let group = try await Sanitisation.rows(
                connection,
                "SELECT id, group_name FROM cwd_group WHERE lower_group_name = \(confluenceGroup) AND directory_id = \(directory)",
                logger, as: (Int64, String).self
            ).first
        else {
            throw AtlassianError(
                .invalidInput,
                "the Confluence database has no group \(confluenceGroup) in its internal directory; the service account cannot be made an administrator"
            )
        }
        let hasMapping =
            !(try await Sanitisation.rows(
                connection, "SELECT user_key FROM user_mapping WHERE lower_username = \(lower)", logger, as: String.self
            ).isEmpty)
        var isMember = false
        if let user {
            isMember =
                !(try await Sanitisation.rows(
                    connection,
                    "SELECT id FROM cwd_membership WHERE parent_id = \(group.0) AND child_user_id = \(user.0)", logger,
                    as: Int64.self
                ).isEmpty)
        }
        return State(
            directory: directory, userId: user?.0, isActive: user?.1 == "T",
            passwordMatches: user.map { PKCS5S2.verify(account.password, against: $0.2) } ?? false,
            hasAppUser: hasMapping, groupId: group.0, groupName: group.1, isMember: isMember)
    }
}
