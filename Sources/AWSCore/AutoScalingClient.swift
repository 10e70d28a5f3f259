import Foundation

/// An Auto Scaling group's size and its instances, as `DescribeAutoScalingGroups` reports them.
public struct AutoScalingGroup: Sendable, Equatable {
    /// One instance of the group.
    public struct Instance: Sendable, Equatable {
        /// The instance id.
        public let id: String
        /// `Pending`, `InService`, `Terminating`, …
        public let lifecycleState: String
        /// `Healthy` or `Unhealthy`.
        public let healthStatus: String
    }

    /// The group's name.
    public let name: String
    /// Its minimum size.
    public let minSize: Int
    /// Its maximum size.
    public let maxSize: Int
    /// Its desired capacity.
    public let desiredCapacity: Int
    /// Its instances.
    public let instances: [Instance]

    /// Instances in service and healthy.
    public var inService: Int {
        instances.filter { $0.lifecycleState == "InService" && $0.healthStatus == "Healthy" }.count
    }
}

/// The EC2 Auto Scaling operations the pipeline needs (Query protocol).
public struct AutoScalingClient: Sendable {
    /// The transport.
    public let aws: AWSClient

    /// Creates a client on top of `aws`.
    public init(_ aws: AWSClient) { self.aws = aws }

    /// The group called `name`, or nil when there is none.
    public func group(_ name: String) async throws -> AutoScalingGroup? {
        var parameters = QueryParameters()
        parameters.setList("AutoScalingGroupNames", [name])
        let result = try await aws.query(.autoScaling, action: "DescribeAutoScalingGroups", parameters: parameters)
        guard let item = result.child("AutoScalingGroups")?.children("member").first else { return nil }
        return AutoScalingGroup(
            name: item.string("AutoScalingGroupName") ?? name, minSize: Int(item.string("MinSize") ?? "") ?? 0,
            maxSize: Int(item.string("MaxSize") ?? "") ?? 0,
            desiredCapacity: Int(item.string("DesiredCapacity") ?? "") ?? 0,
            instances: (item.child("Instances")?.children("member") ?? []).map {
                .init(
                    id: $0.string("InstanceId") ?? "", lifecycleState: $0.string("LifecycleState") ?? "",
                    healthStatus: $0.string("HealthStatus") ?? "")
            })
    }

    /// Sets the group's minimum size and desired capacity (the maximum only grows, to fit).
    public func resize(_ name: String, minSize: Int, desiredCapacity: Int, maxSize: Int? = nil) async throws {
        var parameters = QueryParameters()
        parameters.set("AutoScalingGroupName", name)
        parameters.set("MinSize", minSize)
        parameters.set("DesiredCapacity", desiredCapacity)
        parameters.set("MaxSize", maxSize)
        _ = try await aws.query(
            .autoScaling, action: "UpdateAutoScalingGroup", parameters: parameters, idempotent: true)
    }
}
