
/// What to do, decided from two listings.
public struct SyncPlan: Sendable, Equatable {
    /// Why an entry is transferred.
    public enum Reason: String, Sendable, Equatable {
        case missing = "new"
        case sizeDiffers = "size differs"
        case sourceNewer = "source newer"
        case timestampDiffers = "timestamp differs"
        case checksumDiffers = "checksum differs"
        case checksumUnknown = "no comparable checksum"
    }

    /// Why an entry is left alone although it is in the source.
    public enum SkipReason: String, Sendable, Equatable {
        case symlink = "symbolic link not followed"
        case special = "not a regular file (FIFO, socket or device)"
    }

    /// An entry to transfer.
    public struct Transfer: Sendable, Equatable {
        /// The source entry.
        public let entry: SyncEntry
        /// Why.
        public let reason: Reason

        /// A transfer of `entry`, for `reason`.
        public init(entry: SyncEntry, reason: Reason) {
            self.entry = entry
            self.reason = reason
        }
    }

    /// Entries to transfer, in key order.
    public var transfers: [Transfer] = []
    /// Destination entries to delete, in key order.
    public var deletes: [SyncEntry] = []
    /// Source entries that are not transferred because of their kind (reported, never silent).
    public var skipped: [(entry: SyncEntry, reason: SkipReason)] = []
    /// Source entries refused because they cannot be placed below the destination (see
    /// ``SyncKey/unsafeReason``), with why: each is reported as a failure, never written.
    public var refused: [(entry: SyncEntry, reason: String)] = []
    /// Source entries already in sync.
    public var unchanged = 0
    /// Entries left out by the filter or the shard, on either side.
    public var filteredOut = 0
    /// Destination entries in the sync's scope (what ``SyncOptions/maxDelete`` percentages are of).
    public var destinationEntries = 0

    /// The bytes the transfers will move.
    public var transferBytes: Int64 { transfers.reduce(0) { $0 + $1.entry.size } }

    /// Nothing to transfer and nothing to delete.
    public var isEmpty: Bool { transfers.isEmpty && deletes.isEmpty }

    /// Adds one decision (decisions come in key order, so each list stays in key order).
    public mutating func add(_ decision: SyncDecision) {
        switch decision {
        case .transfer(let transfer): transfers.append(transfer)
        case .unchanged: unchanged += 1
        case .delete(let entry): deletes.append(entry)
        case .skipped(let entry, let reason): skipped.append((entry, reason))
        case .refused(let entry, let reason): refused.append((entry, reason))
        }
    }

    public static func == (lhs: SyncPlan, rhs: SyncPlan) -> Bool {
        lhs.transfers == rhs.transfers && lhs.deletes == rhs.deletes && lhs.unchanged == rhs.unchanged
            && lhs.filteredOut == rhs.filteredOut && lhs.destinationEntries == rhs.destinationEntries
            && lhs.skipped.elementsEqual(rhs.skipped) { $0.entry == $1.entry && $0.reason == $1.reason }
            && lhs.refused.elementsEqual(rhs.refused) { $0.entry == $1.entry && $0.reason == $1.reason }
    }
}
