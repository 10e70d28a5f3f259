import Foundation
import Histogram
import Testing

@testable import AppTesting

/// The Mann–Whitney U test against SciPy's answers on fixed samples (Fixtures/mannwhitneyu.py
/// made Fixtures/mannwhitneyu.json once, with SciPy 1.17.1).
struct MannWhitneyUTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            struct Answer: Decodable {
                var statistic: Double
                var pvalue: Double
            }
            var name: String
            var x: [Double]
            var y: [Double]
            var continuity: Bool
            var method: String
            var answers: [String: Answer]
        }
        var scipy: String
        var cases: [Case]
    }

    static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "Fixtures/mannwhitneyu", withExtension: "json")!
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test(arguments: fixture.cases.map(\.name))
    func theStatisticAndPValuesAreSciPys(_ name: String) throws {
        let fixture = try #require(Self.fixture.cases.first { $0.name == name })
        for alternative in MannWhitneyU.Alternative.allCases {
            let expected = try #require(fixture.answers[alternative.rawValue])
            let test = try MannWhitneyU(
                fixture.x, fixture.y, alternative: alternative,
                method: fixture.method == "auto" ? nil : MannWhitneyU.Method(rawValue: fixture.method),
                continuity: fixture.continuity)
            #expect(test.statistic == expected.statistic, "\(name), \(alternative)")
            #expect(
                abs(test.pValue - expected.pvalue) <= 1e-9 * max(expected.pvalue, 1e-300),
                "\(name), \(alternative): p \(test.pValue), SciPy \(expected.pvalue)")
        }
    }

    @Test func theMethodIsChosenAsSciPysAuto() throws {
        // One side of at most 8 without ties: exact; ties or both above 8: asymptotic.
        #expect(try MannWhitneyU([1, 2, 3], [4, 5, 6, 7]).method == .exact)
        #expect(try MannWhitneyU([1, 2, 3], [3, 5, 6, 7]).method == .asymptotic)
        #expect(try MannWhitneyU(Array(0..<9).map(Double.init), Array(10..<19).map(Double.init)).method == .asymptotic)
        #expect(throws: MannWhitneyU.Failure.exactWithTies) { try MannWhitneyU([1, 2], [2, 3], method: .exact) }
    }

    @Test func anEmptyOrNaNSampleIsRefusedWithWhichOne() {
        #expect(throws: MannWhitneyU.Failure.emptySample("second")) { try MannWhitneyU([1, 2], []) }
        #expect(throws: MannWhitneyU.Failure.emptySample("first")) { try MannWhitneyU([], [1]) }
        #expect(throws: MannWhitneyU.Failure.notANumber("first")) { try MannWhitneyU([1, .nan], [1]) }
    }

    @Test func theEffectSizeIsTheShareOfPairsTheFirstWins() throws {
        let always = try MannWhitneyU([10, 11, 12], [1, 2])
        #expect(always.probabilityOfSuperiority == 1)
        #expect(always.rankBiserial == 1)
        let alike = try MannWhitneyU([1, 2, 3], [1, 2, 3])
        #expect(alike.probabilityOfSuperiority == 0.5)
        #expect(alike.rankBiserial == 0)
    }

    @Test func histogramsGiveTheTestOfTheirSamplesAtTheirResolution() throws {
        // 2,000 against 2,500 latencies: the histograms (3 significant digits) hold each value
        // within 0.1 %, so their test agrees with the raw samples' to the ties that adds.
        let fixture = try #require(Self.fixture.cases.first { $0.x.count == 2000 })
        func histogram(_ values: [Double]) -> Histogram<UInt64> {
            var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
            for value in values { _ = histogram.record(UInt64((value * 1000).rounded())) }
            return histogram
        }
        let raw = try MannWhitneyU(fixture.x, fixture.y, alternative: .greater)
        let binned = try MannWhitneyU(histogram(fixture.x), histogram(fixture.y), alternative: .greater)
        #expect(binned.count1 == 2000 && binned.count2 == 2500)
        #expect(abs(binned.pValue - raw.pValue) / raw.pValue < 0.05)
        #expect(abs(binned.probabilityOfSuperiority - raw.probabilityOfSuperiority) < 0.001)
        // Shifting the first down by its 5 % makes the two alike.
        let shifted = try MannWhitneyU(
            histogram(fixture.x), histogram(fixture.y), shiftingFirstBy: -15_000, alternative: .greater)
        #expect(shifted.pValue > 0.05)
    }
}
