import Foundation

/// The minimums Atlassian's Data Center App Performance Toolkit (DCAPT) holds a load run to
/// before its results count: a long enough run with enough concurrent users. DCAPT's own
/// figures for Jira and Confluence are the defaults (`test_duration: 45m`, `concurrency: 200`
/// in its `jira.yml` and `confluence.yml`); lower them for short sandbox runs. (Its third
/// rule, 95 % success per action, is ``SLA/minimumSuccess``.)
public struct DCAPTCompliance: Sendable, Codable, Equatable {
    /// The shortest run that counts, in seconds (DCAPT: 45 minutes).
    public var minimumSeconds: Double
    /// The fewest concurrent virtual users that count (DCAPT: 200).
    public var minimumUsers: Int

    /// DCAPT's minimums.
    public static let dcapt = DCAPTCompliance()

    /// Creates the minimums; the defaults are DCAPT's.
    public init(minimumSeconds: Double = 45 * 60, minimumUsers: Int = 200) {
        self.minimumSeconds = minimumSeconds
        self.minimumUsers = minimumUsers
    }

    /// One check of a run.
    public struct Check: Sendable, Codable, Equatable {
        /// What was checked: `duration` or `concurrency`.
        public var name: String
        /// Whether the run met the minimum.
        public var compliant: Bool
        /// The measured figure against the minimum.
        public var detail: String
    }

    /// The checks of `result`: its duration and its peak of concurrent users, both as measured.
    public func check(_ result: PerfResult) -> [Check] {
        let minutes = { (seconds: Double) in String(format: "%.1f min", seconds / 60) }
        return [
            Check(
                name: "duration", compliant: result.seconds >= minimumSeconds,
                detail: "\(minutes(result.seconds)) run, \(minutes(minimumSeconds)) needed"),
            Check(
                name: "concurrency", compliant: result.peakUsers >= minimumUsers,
                detail: "\(result.peakUsers) users at the peak, \(minimumUsers) needed"),
        ]
    }
}
