/// Include and exclude patterns with the AWS CLI's semantics.
///
/// Everything is included until a rule says otherwise; rules apply in the order given and the
/// last rule that matches a key decides. Patterns match the whole key relative to the sync root:
/// `*` matches any run of characters including `/`, `?` one character, `[abc]`, `[a-z]` and
/// `[!abc]` a set. So `--exclude "*" --include "*.txt"` keeps only `.txt` files, and
/// `--exclude "caches/*"` drops everything below `caches/`.
public struct SyncFilter: Sendable, Equatable {
    /// One rule.
    public struct Rule: Sendable, Equatable {
        /// What a matching rule does.
        public enum Action: Sendable, Equatable {
            case include
            case exclude
        }

        /// `--include` or `--exclude`.
        public let action: Action
        /// The glob.
        public let pattern: String

        /// Creates a rule.
        public init(_ action: Action, _ pattern: String) {
            self.action = action
            self.pattern = pattern
        }

        /// An `--exclude` rule.
        public static func exclude(_ pattern: String) -> Rule { Rule(.exclude, pattern) }
        /// An `--include` rule.
        public static func include(_ pattern: String) -> Rule { Rule(.include, pattern) }
    }

    /// The rules in order.
    public var rules: [Rule]

    /// Creates a filter.
    public init(_ rules: [Rule] = []) { self.rules = rules }

    /// Whether `key` takes part in the sync.
    public func includes(_ key: SyncKey) -> Bool {
        var included = true
        for rule in rules where Self.matches(Array(rule.pattern.utf8), Array(key.string.utf8)) {
            included = rule.action == .include
        }
        return included
    }

    /// `fnmatch` without `FNM_PATHNAME`, on bytes.
    static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0
        var t = 0
        var starP = -1
        var starT = 0
        while t < text.count {
            if p < pattern.count {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    starP = p
                    starT = t
                    p += 1
                    continue
                case UInt8(ascii: "?"):
                    p += 1
                    t += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, next) = matchSet(pattern, from: p, byte: text[t]) {
                        if matched {
                            p = next
                            t += 1
                            continue
                        }
                    } else if text[t] == UInt8(ascii: "[") {
                        p += 1
                        t += 1
                        continue
                    }
                default:
                    if pattern[p] == text[t] {
                        p += 1
                        t += 1
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starT += 1
            t = starT
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Matches `[...]` at `start`; `nil` when the bracket is not closed (then it is a literal `[`).
    static func matchSet(_ pattern: [UInt8], from start: Int, byte: UInt8) -> (Bool, Int)? {
        var index = start + 1
        var negate = false
        if index < pattern.count && (pattern[index] == UInt8(ascii: "!") || pattern[index] == UInt8(ascii: "^")) {
            negate = true
            index += 1
        }
        var matched = false
        var first = true
        while index < pattern.count {
            let current = pattern[index]
            if current == UInt8(ascii: "]") && !first { return (matched != negate, index + 1) }
            first = false
            if index + 2 < pattern.count && pattern[index + 1] == UInt8(ascii: "-")
                && pattern[index + 2] != UInt8(ascii: "]")
            {
                if current <= byte && byte <= pattern[index + 2] { matched = true }
                index += 3
            } else {
                if current == byte { matched = true }
                index += 1
            }
        }
        return nil
    }
}
