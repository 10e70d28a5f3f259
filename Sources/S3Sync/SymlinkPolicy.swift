/// What the local lister does with symbolic links.
public enum SymlinkPolicy: String, Sendable, Equatable, CaseIterable {
    /// Sync what the link points at (the AWS CLI default); a broken link is reported, not synced.
    case follow
    /// Report links in ``SyncPlan/skipped`` without following them.
    case skip
}
