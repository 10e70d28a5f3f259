import AWSCore
import Foundation
import RelayFoundation

extension DataRefresher {
    /// How applications are stopped and started: scale an Auto Scaling group, shell commands
    /// (which may call SSM or systemctl), Swift closures, or nothing in the sandbox.
    public struct ApplicationControl: Sendable {
        /// Stops product `name`; returns when it is down.
        public var stop: @Sendable (_ name: String) async throws -> Void
        /// Starts product `name`.
        public var start: @Sendable (_ name: String) async throws -> Void

        /// Creates a control.
        public init(
            stop: @escaping @Sendable (_ name: String) async throws -> Void,
            start: @escaping @Sendable (_ name: String) async throws -> Void
        ) {
            self.stop = stop
            self.start = start
        }

        /// Does nothing (the applications are managed elsewhere).
        public static let none = ApplicationControl(stop: { _ in }, start: { _ in })

        /// Runs shell commands (`/bin/sh -c`), with `{product}` replaced by the product's name,
        /// for example `sudo systemctl stop {product}`; a non-zero exit is a failure.
        public static func commands(stop: String, start: String, timeout: Duration = .seconds(900))
            -> ApplicationControl
        {
            @Sendable func run(_ template: String, _ name: String) async throws {
                let command = template.replacingOccurrences(of: "{product}", with: name)
                let output = try await ProcessRunner.run("/bin/sh", ["-c", command], timeout: timeout)
                guard output.status == 0 else {
                    throw DataRefreshError(
                        "'\(command)' failed (exit \(output.status)): \(output.errorText.prefix(300))")
                }
            }
            return ApplicationControl(stop: { try await run(stop, $0) }, start: { try await run(start, $0) })
        }

        /// Scales each product's Auto Scaling group (`group` with `{product}` replaced) to zero
        /// and waits until its instances are gone; starts by scaling it to `capacity` and waiting
        /// until that many are in service and healthy (the refresher then waits for RUNNING).
        public static func autoScaling(
            _ client: AutoScalingClient, group: String, capacity: Int, pollInterval: Duration = .seconds(10),
            timeout: Duration = .seconds(1800)
        ) -> ApplicationControl {
            /// The product's group, which must exist.
            @Sendable func lookup(_ product: String) async throws -> AutoScalingGroup {
                let name = group.replacingOccurrences(of: "{product}", with: product)
                guard let current = try await client.group(name) else {
                    throw DataRefreshError("Auto Scaling group \(name) does not exist; check control.autoScalingGroup")
                }
                return current
            }
            @Sendable func wait(_ product: String, until done: @Sendable (AutoScalingGroup) -> Bool, what: String)
                async throws
            {
                let deadline = ContinuousClock.now + timeout
                while true {
                    let current = try await lookup(product)
                    if done(current) { return }
                    guard ContinuousClock.now < deadline else {
                        throw DataRefreshError(
                            "Auto Scaling group \(current.name) did not \(what) within \(timeout) "
                                + "(\(current.instances.count) instance(s), \(current.inService) in service); check its activity history"
                        )
                    }
                    try await Task.sleep(for: pollInterval)
                }
            }
            return ApplicationControl(
                stop: { product in
                    let current = try await lookup(product)
                    try await client.resize(current.name, minSize: 0, desiredCapacity: 0)
                    try await wait(product, until: { $0.instances.isEmpty }, what: "scale in to zero")
                },
                start: { product in
                    let current = try await lookup(product)
                    try await client.resize(
                        current.name, minSize: capacity, desiredCapacity: capacity,
                        maxSize: max(current.maxSize, capacity))
                    try await wait(
                        product, until: { $0.inService >= capacity }, what: "reach \(capacity) healthy instance(s)")
                })
        }
    }
}
