import AWSSigning
import Foundation

/// A running (or stopped) EC2 instance, as `DescribeInstances` reports it.
public struct EC2Instance: Sendable, Equatable {
    /// The instance id, `i-…`.
    public let id: String
    /// `pending`, `running`, `stopping`, `stopped`, …
    public let state: String
    /// The private IPv4 address.
    public let privateIP: String?
    /// When it was launched.
    public let launchTime: Date?
    /// Its tags.
    public let tags: [String: String]
}

/// The EC2 operations the pipeline needs (EC2 Query protocol).
public struct EC2Client: Sendable {
    /// The transport.
    public let aws: AWSClient

    /// Creates a client on top of `aws`.
    public init(_ aws: AWSClient) { self.aws = aws }

    /// The instances whose tags match every entry of `tags`, in the given states (all pages),
    /// sorted by launch time then id, so a rolling deploy goes oldest first and always in the same order.
    public func instances(tagged tags: [String: String], states: [String] = ["running"]) async throws -> [EC2Instance] {
        var found: [EC2Instance] = []
        var token: String?
        repeat {
            var parameters = QueryParameters(style: .flat)
            var filters = tags.sorted { $0.key < $1.key }.map { (name: "tag:\($0.key)", values: [$0.value]) }
            if !states.isEmpty { filters.append((name: "instance-state-name", values: states)) }
            parameters.setList("Filter", filters) { filter, member in
                member.set("Name", filter.name)
                member.setList("Value", filter.values)
            }
            parameters.set("NextToken", token)
            let result = try await aws.query(.ec2, action: "DescribeInstances", parameters: parameters)
            for reservation in result.child("reservationSet")?.children("item") ?? [] {
                for item in reservation.child("instancesSet")?.children("item") ?? [] {
                    var instanceTags: [String: String] = [:]
                    for tag in item.child("tagSet")?.children("item") ?? [] {
                        if let key = tag.string("key") { instanceTags[key] = tag.string("value") ?? "" }
                    }
                    found.append(
                        EC2Instance(
                            id: item.string("instanceId") ?? "",
                            state: item.child("instanceState")?.string("name") ?? "",
                            privateIP: item.string("privateIpAddress"),
                            launchTime: item.string("launchTime").flatMap(ISO8601.parse), tags: instanceTags))
                }
            }
            token = result.string("nextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return found.sorted {
            ($0.launchTime ?? .distantPast, $0.id) < ($1.launchTime ?? .distantPast, $1.id)
        }
    }
}
