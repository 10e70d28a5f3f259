import Foundation

/// One target's health in a target group, as `DescribeTargetHealth` reports it.
public struct TargetHealth: Sendable, Equatable {
    /// The instance id.
    public let id: String
    /// `initial`, `healthy`, `unhealthy`, `unhealthy.draining`, `unused`, `draining` or
    /// `unavailable`.
    public let state: String
    /// Why, for example `Target.NotRegistered` or `Elb.RegistrationInProgress`.
    public let reason: String?

    /// Whether the target is in the group at all (`unused` with `Target.NotRegistered` is not).
    public var isRegistered: Bool { !(state == "unused" && reason == "Target.NotRegistered") }
}

/// The Elastic Load Balancing (v2) operations a hot deploy needs: taking instances out of their
/// target groups and putting them back (Query protocol).
public struct ELBv2Client: Sendable {
    /// The transport.
    public let aws: AWSClient

    /// Creates a client on top of `aws`.
    public init(_ aws: AWSClient) { self.aws = aws }

    /// The health of `targets` (instance ids) in `group`, or of every registered target when
    /// `targets` is empty.
    public func health(of group: String, targets: [String] = []) async throws -> [TargetHealth] {
        var parameters = QueryParameters()
        parameters.set("TargetGroupArn", group)
        parameters.setList("Targets", targets) { id, member in member.set("Id", id) }
        let result = try await aws.query(.elasticLoadBalancingV2, action: "DescribeTargetHealth", parameters: parameters)
        return (result.child("TargetHealthDescriptions")?.children("member") ?? []).map {
            TargetHealth(
                id: $0.child("Target")?.string("Id") ?? "", state: $0.child("TargetHealth")?.string("State") ?? "",
                reason: $0.child("TargetHealth")?.string("Reason"))
        }
    }

    /// Registers `targets` (instance ids) with `group`, on the group's port.
    public func register(_ targets: [String], with group: String) async throws {
        var parameters = QueryParameters()
        parameters.set("TargetGroupArn", group)
        parameters.setList("Targets", targets) { id, member in member.set("Id", id) }
        _ = try await aws.query(
            .elasticLoadBalancingV2, action: "RegisterTargets", parameters: parameters, idempotent: true)
    }

    /// Deregisters `targets` from `group`: the load balancer stops sending them new requests
    /// and drains the open ones for the group's deregistration delay.
    public func deregister(_ targets: [String], from group: String) async throws {
        var parameters = QueryParameters()
        parameters.set("TargetGroupArn", group)
        parameters.setList("Targets", targets) { id, member in member.set("Id", id) }
        _ = try await aws.query(
            .elasticLoadBalancingV2, action: "DeregisterTargets", parameters: parameters, idempotent: true)
    }
}
