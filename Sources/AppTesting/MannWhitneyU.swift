import Foundation
import Histogram

/// The Mann–Whitney U test (the Wilcoxon rank-sum test) of two independent samples, computed
/// as SciPy's `scipy.stats.mannwhitneyu` computes it, so figures can be checked against it.
///
/// The statistic is U of the first sample: the number of pairs in which its value is the larger,
/// ties counting one half. The p-value comes from the exact distribution of U when one sample
/// has at most 8 values and there are no ties, otherwise from the normal approximation with the
/// tie correction and (by default) the continuity correction: SciPy's `method="auto"`.
///
/// Samples may carry counts, so a latency histogram is a sample: each distinct recorded value
/// once, with its count (ties at the histogram's resolution).
public struct MannWhitneyU: Sendable, Codable, Equatable {
    /// What the test looks for.
    public enum Alternative: String, Sendable, Codable, CaseIterable {
        /// The two distributions differ.
        case twoSided = "two-sided"
        /// The first sample's distribution is stochastically smaller than the second's.
        case less
        /// The first sample's distribution is stochastically greater than the second's.
        case greater
    }

    /// How the p-value was computed.
    public enum Method: String, Sendable, Codable, CaseIterable {
        /// From the exact distribution of U (no ties allowed).
        case exact
        /// From the normal approximation with the tie correction.
        case asymptotic
    }

    /// Why two samples cannot be tested.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// A sample has no values.
        case emptySample(String)
        /// A value is not a number.
        case notANumber(String)
        /// The exact method was asked for samples with ties.
        case exactWithTies

        public var description: String {
            switch self {
            case .emptySample(let which): "the \(which) sample has no values: a test needs at least one in each"
            case .notANumber(let which): "the \(which) sample holds a value that is not a number"
            case .exactWithTies: "the exact method needs samples without ties; use the asymptotic method"
            }
        }
    }

    /// U of the first sample.
    public let statistic: Double
    /// The p-value for ``alternative``.
    public let pValue: Double
    /// The alternative hypothesis tested.
    public let alternative: Alternative
    /// How ``pValue`` was computed.
    public let method: Method
    /// The number of values in the first sample.
    public let count1: Int
    /// The number of values in the second sample.
    public let count2: Int

    /// The probability that a value of the first sample is larger than one of the second (ties
    /// counting one half): U / (n₁ n₂), 0.5 when the two are alike.
    public var probabilityOfSuperiority: Double { statistic / (Double(count1) * Double(count2)) }

    /// The rank-biserial correlation, 2 U / (n₁ n₂) − 1: from −1 (the first sample always
    /// smaller) through 0 to 1 (always larger).
    public var rankBiserial: Double { 2 * probabilityOfSuperiority - 1 }

    /// Tests two samples of plain values.
    ///
    /// - Parameters:
    ///   - x: the first sample; ``statistic`` is its U.
    ///   - y: the second sample.
    ///   - alternative: what to look for; two-sided by default.
    ///   - method: nil chooses as SciPy's `auto` does.
    ///   - continuity: the continuity correction of the normal approximation (SciPy's `use_continuity`).
    /// - Throws: ``Failure`` for an empty sample, a NaN, or the exact method with ties.
    public init(
        _ x: [Double], _ y: [Double], alternative: Alternative = .twoSided, method: Method? = nil,
        continuity: Bool = true
    ) throws {
        try self.init(
            counted: x.map { ($0, 1) }, y.map { ($0, 1) }, alternative: alternative, method: method,
            continuity: continuity)
    }

    /// Tests two latency histograms: each distinct recorded value (its bucket's median-equivalent
    /// value) with its count, shifted by `shift` in the histogram's units for the first one.
    public init(
        _ x: Histogram<UInt64>, _ y: Histogram<UInt64>, shiftingFirstBy shift: Double = 0,
        alternative: Alternative = .twoSided
    ) throws {
        func values(_ histogram: Histogram<UInt64>, _ shift: Double) -> [(Double, Int)] {
            histogram.recordedValues().map {
                (Double(histogram.medianEquivalentForValue($0.value)) + shift, Int($0.count))
            }
        }
        try self.init(counted: values(x, shift), values(y, 0), alternative: alternative)
    }

    /// Tests two samples of values with counts (a count of zero or less is left out).
    public init(
        counted x: [(value: Double, count: Int)], _ y: [(value: Double, count: Int)],
        alternative: Alternative = .twoSided, method: Method? = nil, continuity: Bool = true
    ) throws {
        let first = x.filter { $0.count > 0 }.sorted { $0.value < $1.value }
        let second = y.filter { $0.count > 0 }.sorted { $0.value < $1.value }
        let n1 = first.reduce(0) { $0 + $1.count }
        let n2 = second.reduce(0) { $0 + $1.count }
        guard n1 > 0 else { throw Failure.emptySample("first") }
        guard n2 > 0 else { throw Failure.emptySample("second") }
        guard !first.contains(where: { $0.value.isNaN }) else { throw Failure.notANumber("first") }
        guard !second.contains(where: { $0.value.isNaN }) else { throw Failure.notANumber("second") }

        // One pass over both sorted samples: each distinct value gets the mean of the ranks its
        // values take; R₁ sums the first sample's, the tie term Σ(t³ − t) feeds the correction.
        var rankSum1 = 0.0
        var tieTerm = 0.0
        var ties = false
        var below = 0.0  // values already ranked
        var i = 0
        var j = 0
        while i < first.count || j < second.count {
            let value = min(i < first.count ? first[i].value : .infinity, j < second.count ? second[j].value : .infinity)
            var inFirst = 0
            var inSecond = 0
            while i < first.count && first[i].value == value {
                inFirst += first[i].count
                i += 1
            }
            while j < second.count && second[j].value == value {
                inSecond += second[j].count
                j += 1
            }
            let tied = Double(inFirst + inSecond)
            rankSum1 += Double(inFirst) * (below + (tied + 1) / 2)
            if tied > 1 {
                ties = true
                tieTerm += tied * tied * tied - tied
            }
            below += tied
        }
        let u1 = rankSum1 - Double(n1) * Double(n1 + 1) / 2
        let u2 = Double(n1) * Double(n2) - u1
        let (u, factor): (Double, Double) =
            switch alternative {
            case .greater: (u1, 1)
            case .less: (u2, 1)
            case .twoSided: (Swift.max(u1, u2), 2)
            }
        let chosen = method ?? (n1 > 8 && n2 > 8 || ties ? .asymptotic : .exact)
        var p: Double
        switch chosen {
        case .exact:
            guard !ties else { throw Failure.exactWithTies }
            p = Self.exactSurvival(Int(u.rounded()), n1, n2)
        case .asymptotic:
            let n = Double(n1 + n2)
            let spread = (Double(n1) * Double(n2) / 12 * ((n + 1) - tieTerm / (n * (n - 1)))).squareRoot()
            var numerator = u - Double(n1) * Double(n2) / 2
            if continuity { numerator -= 0.5 }
            // The normal survival function; a zero spread (all values tied) gives z = ±∞ or NaN.
            let z = spread > 0 ? numerator / spread : (numerator > 0 ? .infinity : numerator < 0 ? -.infinity : .nan)
            p = z.isNaN ? 1 : 0.5 * erfc(z / 2.0.squareRoot())
        }
        p = Swift.min(1, Swift.max(0, p * factor))
        self.statistic = u1
        self.pValue = p
        self.alternative = alternative
        self.method = chosen
        self.count1 = n1
        self.count2 = n2
    }

    /// P(U ≥ u) when U is the statistic of samples of `n1` and `n2` values without ties: the
    /// coefficients of the Gaussian binomial [n₁+n₂ choose m]_q (m the smaller size) count the
    /// arrangements giving each U, built up one factor (1 − q^(n+k)) / (1 − q^k) at a time.
    static func exactSurvival(_ u: Int, _ n1: Int, _ n2: Int) -> Double {
        let m = Swift.min(n1, n2)
        let n = Swift.max(n1, n2)
        let degree = m * n
        guard u > 0 else { return 1 }
        guard u <= degree else { return 0 }
        var counts = [Double](repeating: 0, count: degree + 1)
        counts[0] = 1
        for k in stride(from: 1, through: m, by: 1) {
            // × (1 − q^(n+k)), from the top so each term uses the old coefficients.
            let up = n + k
            if up <= degree {
                for power in stride(from: degree, through: up, by: -1) { counts[power] -= counts[power - up] }
            }
            // ÷ (1 − q^k): a running sum with stride k (the quotient is a polynomial again).
            for power in stride(from: k, through: degree, by: 1) { counts[power] += counts[power - k] }
        }
        let total = counts.reduce(0, +)
        let tail = counts[u...].reduce(0, +)
        return tail / total
    }
}
