import Foundation
import Logging
import PostgresNIO

/// What a sanitisation run is given besides the policy: values the caller resolved.
public struct SanitisationContext: Sendable {
    /// The licence to install (resolved from ``SanitisationPolicy/licences``); nil keeps PROD's.
    public var licence: String?
    /// The refresher's own account, from the target's Basic credentials; nil skips the
    /// service-account step (with a note in the report).
    public var serviceAccount: ServiceAccount?

    /// Creates a context.
    public init(licence: String? = nil, serviceAccount: ServiceAccount? = nil) {
        self.licence = licence
        self.serviceAccount = serviceAccount
    }
}

/// What a sanitisation run found (dry run) or changed, step by step.
public struct SanitisationReport: Sendable, Equatable {
    /// One step's part.
    public struct Entry: Sendable, Equatable {
        /// The step.
        public let step: SanitisationStep
        /// Whether the policy has it on.
        public let isOn: Bool
        /// What it changes (dry run) or changed: one line per row or key, for example
        /// `mailserver 10000 (smtp smtp.example.com)`.
        public let items: [String]
        /// Why it changes nothing when it does not (no licence given, no credentials, …).
        public let note: String?
    }

    /// The product.
    public let product: Product
    /// False for a dry run (nothing was touched).
    public let applied: Bool
    /// The steps, in the order they ran.
    public let entries: [Entry]

    /// The entry of `step`, if the report has one.
    public func entry(_ step: SanitisationStep) -> Entry? { entries.first { $0.step == step } }

    /// One line per step, with what it would change (or changed) indented under it.
    public var text: String {
        var lines: [String] = []
        for entry in entries {
            let state = entry.isOn ? (applied ? "done" : "on") : "OFF (turned off in the settings)"
            lines.append("\(entry.step.name) [\(state)]: \(entry.step.summary)")
            if entry.isOn {
                if entry.items.isEmpty {
                    lines.append("    nothing to change" + (entry.note.map { ": \($0)" } ?? ""))
                }
                for item in entry.items { lines.append("    \(applied ? "changed" : "would change"): \(item)") }
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Runs the ``SanitisationStep``s of one product against its database, the application down:
/// ``plan(_:database:settings:context:only:logger:)`` lists what each step would change and touches
/// nothing; ``apply(_:database:settings:context:only:logger:)`` changes it, one transaction a step, in
/// the order of ``SanitisationStep/all`` (outgoing mail first, committed on its own).
public enum Sanitisation {
    /// What the steps would change, touching nothing. Safe against PROD.
    ///
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/invalidInput`` for an invalid
    ///   policy or a database that is not `product`'s, ``AtlassianError/Kind/unreachable`` when it
    ///   cannot be reached.
    ///
    /// - Parameters:
    ///   - product: the database's product.
    ///   - location: the database.
    ///   - settings: the environment's settings; their ``EnvironmentSettings/sanitisation`` policy
    ///     says which steps are on.
    ///   - context: the licence and the service account, resolved by the caller.
    ///   - only: run just these steps (of `product`), for example the outgoing-mail step first on
    ///     its own; nil runs them all. Steps not run are left out of the report.
    ///   - logger: where each step's count of changes goes.
    public static func plan(
        _ product: Product, database location: DatabaseLocation, settings: EnvironmentSettings,
        context: SanitisationContext = SanitisationContext(), only: Set<SanitisationStep>? = nil,
        logger: Logger = Logger(label: "atlas-relay.sanitisation")
    ) async throws -> SanitisationReport {
        try await run(product, location, settings, context, only, logger, apply: false)
    }

    /// Makes the changes of every step the policy has on (the parameters as for
    /// ``plan(_:database:settings:context:only:logger:)``).
    ///
    /// - Throws: ``AtlassianError``: kind ``AtlassianError/Kind/refused`` when `settings` are
    ///   PROD's (nothing is written), ``AtlassianError/Kind/invalidInput`` for an invalid policy;
    ///   what the database threw (the failing step's transaction is rolled back, the steps before
    ///   it stay done, and a re-run does only what is left).
    @discardableResult
    public static func apply(
        _ product: Product, database location: DatabaseLocation, settings: EnvironmentSettings,
        context: SanitisationContext = SanitisationContext(), only: Set<SanitisationStep>? = nil,
        logger: Logger = Logger(label: "atlas-relay.sanitisation")
    ) async throws -> SanitisationReport {
        if settings.isProduction {
            throw AtlassianError(
                .refused, "\(settings.environment) is PROD; sanitisation never writes to PROD's databases")
        }
        return try await run(product, location, settings, context, only, logger, apply: true)
    }

    private static func run(
        _ product: Product, _ location: DatabaseLocation, _ settings: EnvironmentSettings,
        _ context: SanitisationContext, _ only: Set<SanitisationStep>?, _ logger: Logger, apply: Bool
    ) async throws -> SanitisationReport {
        let problems = settings.sanitisation.problems()
        guard problems.isEmpty else {
            throw AtlassianError(
                .invalidInput,
                "the sanitisation settings of \(settings.environment) are invalid: "
                    + problems.joined(separator: "; ") + "; nothing was changed")
        }
        let actions = (product == .jira ? jiraActions : confluenceActions).filter { only?.contains($0.step) ?? true }
        let database = try await ProductDatabase.open(
            location, product: product, tables: product == .jira ? jiraTables : confluenceTables, logger: logger)
        let input = SanitisationInput(policy: settings.sanitisation, context: context, logger: logger)
        var entries: [SanitisationReport.Entry] = []
        do {
            for action in actions {
                guard settings.sanitisation.isOn(action.step) else {
                    entries.append(.init(step: action.step, isOn: false, items: [], note: nil))
                    continue
                }
                var missing: [String] = []
                for table in action.needs where !(try await exists(table, database.connection, logger)) {
                    missing.append(table)
                }
                guard missing.isEmpty else {
                    entries.append(
                        .init(
                            step: action.step, isOn: true, items: [],
                            note: "no \(missing.joined(separator: ", ")) table in this database"))
                    continue
                }
                let (items, note): ([SanitisationItem], String?)
                if apply {
                    (items, note) = try await database.transaction { connection in
                        let found = try await action.find(connection, input)
                        if !found.0.isEmpty { try await action.change(connection, found.0, input) }
                        return found
                    }
                    if !items.isEmpty {
                        logger.info(
                            "sanitisation step done",
                            metadata: ["step": "\(action.step.name)", "changed": "\(items.count)"])
                    }
                } else {
                    (items, note) = try await action.find(database.connection, input)
                }
                entries.append(.init(step: action.step, isOn: true, items: items.map(\.line), note: note))
            }
        } catch {
            await database.close()
            throw error
        }
        await database.close()
        return SanitisationReport(product: product, applied: apply, entries: entries)
    }
}

/// One row or key a step changes: its identity for the change, and the line the report shows.
struct SanitisationItem: Sendable {
    let id: String
    let line: String
}

/// How one step finds and changes its rows, inside a transaction.
struct SanitisationAction: Sendable {
    let step: SanitisationStep
    /// The tables the step works on; when one is missing the step has nothing to do (and says so).
    var needs: [String] = []
    /// The rows to change and, when there are none, why.
    let find: @Sendable (PostgresConnection, SanitisationInput) async throws -> ([SanitisationItem], String?)
    /// Changes `items` (as `find` returned them in the same transaction).
    let change: @Sendable (PostgresConnection, [SanitisationItem], SanitisationInput) async throws -> Void
}

extension SanitisationAction {
    /// One step made of `first` and then `second` (the same step): their items in one list,
    /// each part changing its own.
    static func combined(_ first: SanitisationAction, _ second: SanitisationAction) -> SanitisationAction {
        SanitisationAction(
            step: first.step, needs: first.needs + second.needs,
            find: { connection, input in
                let (a, noteA) = try await first.find(connection, input)
                let (b, noteB) = try await second.find(connection, input)
                let items =
                    a.map { SanitisationItem(id: "1:" + $0.id, line: $0.line) }
                    + b.map { SanitisationItem(id: "2:" + $0.id, line: $0.line) }
                return (items, items.isEmpty ? (noteA ?? noteB) : nil)
            },
            change: { connection, items, input in
                let a = items.filter { $0.id.hasPrefix("1:") }.map {
                    SanitisationItem(id: String($0.id.dropFirst(2)), line: $0.line)
                }
                let b = items.filter { $0.id.hasPrefix("2:") }.map {
                    SanitisationItem(id: String($0.id.dropFirst(2)), line: $0.line)
                }
                if !a.isEmpty { try await first.change(connection, a, input) }
                if !b.isEmpty { try await second.change(connection, b, input) }
            })
    }
}

/// What the actions read besides the connection.
struct SanitisationInput: Sendable {
    let policy: SanitisationPolicy
    let context: SanitisationContext
    let logger: Logger
}
