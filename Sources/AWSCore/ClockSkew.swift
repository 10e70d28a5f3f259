import AWSSigning
import Foundation
import Logging
import NIOHTTP1
import Synchronization

/// The offset between one client's clock and its servers', learnt from answers' `Date` headers
/// and added to the signing time, as the AWS SDKs do.
final class ClockSkew: Sendable {
    private let offset = Mutex<Double>(0)

    /// The seconds to add to the local clock.
    var seconds: TimeInterval { offset.withLock { $0 } }

    /// Learns the offset between the server's `Date` and the local clock when it is over four
    /// minutes. Returns whether the offset changed (so a skew error is worth retrying).
    func learn(from headers: HTTPHeaders, logger: Logger) -> Bool {
        guard let text = headers.first(name: "Date"), let serverDate = HTTPDate.parse(text) else { return false }
        let skew = serverDate.timeIntervalSinceNow
        return offset.withLock { offset in
            let corrected = abs(skew) > 240 ? skew : 0
            guard abs(corrected - offset) > 1 else { return false }
            offset = corrected
            logger.warning("clock skew detected", metadata: ["skew_seconds": "\(Int(skew))"])
            return true
        }
    }
}
