import Foundation

/// The subset of JQL and CQL the simulator runs on the product tables: clauses `field op value`
/// joined by `AND` (`op` one of `=`, `!=`, `~`, `!~`; values bare words or quoted), and an optional
/// `ORDER BY field [ASC|DESC], …`. Anything else (`OR`, parentheses, functions, `IN`) is a syntax
/// error, answered 400 as the products answer a query they cannot parse.
struct SearchQuery: Sendable, Equatable {
    struct Clause: Sendable, Equatable {
        var field: String
        var op: String
        var value: String
    }

    struct Order: Sendable, Equatable {
        var field: String
        var descending: Bool
    }

    struct SyntaxError: Error, CustomStringConvertible {
        let description: String
    }

    var clauses: [Clause] = []
    var order: [Order] = []

    enum Token: Equatable {
        case word(String)
        case quoted(String)
        case op(String)
        case comma
    }

    static func tokens(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character.isWhitespace {
                index = text.index(after: index)
            } else if character == "\"" || character == "'" {
                var value = ""
                var cursor = text.index(after: index)
                var closed = false
                while cursor < text.endIndex {
                    let next = text[cursor]
                    if next == "\\", text.index(after: cursor) < text.endIndex {
                        cursor = text.index(after: cursor)
                        value.append(text[cursor])
                    } else if next == character {
                        closed = true
                        break
                    } else {
                        value.append(next)
                    }
                    cursor = text.index(after: cursor)
                }
                guard closed else { throw SyntaxError(description: "unterminated quoted value") }
                tokens.append(.quoted(value))
                index = text.index(after: cursor)
            } else if character == "," {
                tokens.append(.comma)
                index = text.index(after: index)
            } else if "=~!<>".contains(character) {
                var op = String(character)
                let next = text.index(after: index)
                if next < text.endIndex, "=~".contains(text[next]) {
                    op.append(text[next])
                    index = text.index(after: next)
                } else {
                    index = next
                }
                tokens.append(.op(op))
            } else if "()".contains(character) {
                throw SyntaxError(description: "parentheses are not supported here")
            } else {
                var word = ""
                while index < text.endIndex, !text[index].isWhitespace, !"=~!<>,()\"'".contains(text[index]) {
                    word.append(text[index])
                    index = text.index(after: index)
                }
                tokens.append(.word(word))
            }
        }
        return tokens
    }

    static func parse(_ text: String) throws -> SearchQuery {
        var query = SearchQuery()
        var tokens = try tokens(text)[...]
        func isKeyword(_ token: Token?, _ keyword: String) -> Bool {
            if case .word(let word) = token { return word.uppercased() == keyword }
            return false
        }
        while let first = tokens.first, !isKeyword(first, "ORDER") {
            guard case .word(let field) = tokens.popFirst() else {
                throw SyntaxError(description: "expected a field name")
            }
            guard case .op(let op) = tokens.popFirst(), ["=", "!=", "~", "!~"].contains(op) else {
                throw SyntaxError(description: "expected =, !=, ~ or !~ after '\(field)'")
            }
            let value: String
            switch tokens.popFirst() {
            case .word(let word) where !["AND", "OR", "ORDER"].contains(word.uppercased()): value = word
            case .quoted(let quoted): value = quoted
            default: throw SyntaxError(description: "expected a value after '\(field) \(op)'")
            }
            query.clauses.append(Clause(field: field.lowercased(), op: op, value: value))
            if isKeyword(tokens.first, "AND") {
                tokens.removeFirst()
                guard !tokens.isEmpty, !isKeyword(tokens.first, "ORDER") else {
                    throw SyntaxError(description: "expected a clause after AND")
                }
            } else if let next = tokens.first, !isKeyword(next, "ORDER") {
                throw SyntaxError(description: "expected AND or ORDER BY, found \(next)")
            }
        }
        if isKeyword(tokens.first, "ORDER") {
            tokens.removeFirst()
            guard isKeyword(tokens.popFirst(), "BY") else { throw SyntaxError(description: "expected ORDER BY") }
            repeat {
                guard case .word(let field) = tokens.popFirst() else {
                    throw SyntaxError(description: "expected a field to order by")
                }
                var descending = false
                if isKeyword(tokens.first, "DESC") {
                    descending = true
                    tokens.removeFirst()
                } else if isKeyword(tokens.first, "ASC") {
                    tokens.removeFirst()
                }
                query.order.append(Order(field: field.lowercased(), descending: descending))
            } while tokens.first == .comma && tokens.popFirst() != nil
            guard tokens.isEmpty else { throw SyntaxError(description: "unexpected text after ORDER BY") }
        }
        return query
    }
}
