import Foundation

/// The result of a Run Command on one instance, as `GetCommandInvocation` reports it.
public struct CommandInvocation: Sendable, Equatable, Decodable {
    /// `Pending`, `InProgress`, `Delayed`, `Success`, `Cancelled`, `TimedOut`, `Failed`, `Cancelling`.
    public let status: String
    /// A finer status, for example `Undeliverable` or `ExecutionTimedOut`.
    public let statusDetails: String?
    /// The script's exit code (-1 while it runs).
    public let responseCode: Int?
    /// The first 24,000 characters of standard output.
    public let standardOutputContent: String?
    /// The first 8,000 characters of standard error.
    public let standardErrorContent: String?

    /// Whether the invocation has ended, one way or the other.
    public var isFinished: Bool { ["Success", "Cancelled", "TimedOut", "Failed"].contains(status) }

    enum CodingKeys: String, CodingKey {
        case status = "Status", statusDetails = "StatusDetails", responseCode = "ResponseCode"
        case standardOutputContent = "StandardOutputContent", standardErrorContent = "StandardErrorContent"
    }
}

/// The Systems Manager operations the pipeline needs (JSON 1.1 protocol).
public struct SSMClient: Sendable {
    /// The transport.
    public let aws: AWSClient

    /// Creates a client on top of `aws`.
    public init(_ aws: AWSClient) { self.aws = aws }

    struct SendCommandInput: Encodable, Sendable {
        let InstanceIds: [String]
        let DocumentName: String
        let Parameters: [String: [String]]
        let Comment: String?
        let TimeoutSeconds: Int?
        let OutputS3BucketName: String?
        let OutputS3KeyPrefix: String?
        let MaxConcurrency: String?
    }

    struct SendCommandOutput: Decodable, Sendable {
        struct Command: Decodable, Sendable { let CommandId: String }
        let Command: Command
    }

    /// Sends a Run Command document to `instances`.
    ///
    /// - Parameters:
    ///   - instances: the instance ids to run it on.
    ///   - document: for example `AWS-RunShellScript`.
    ///   - parameters: the document's parameters, for example `["commands": ["systemctl restart jira"]]`.
    ///   - comment: shown in the console (at most 100 characters).
    ///   - timeoutSeconds: how long SSM tries to deliver the command.
    ///   - output: where SSM writes each instance's full standard output and error
    ///     (`<prefix>/<command>/<instance>/awsrunShellScript/0.awsrunShellScript/stdout`):
    ///     `GetCommandInvocation` returns only the first 24,000 characters.
    ///   - maxConcurrency: instances that run it at once (SSM's default is 50).
    /// - Returns: the command id.
    public func sendCommand(
        instances: [String], document: String, parameters: [String: [String]], comment: String? = nil,
        timeoutSeconds: Int? = nil, output: (bucket: String, prefix: String)? = nil, maxConcurrency: Int? = nil
    ) async throws -> String {
        let output = try await aws.json(
            .ssm, operation: "SendCommand",
            input: SendCommandInput(
                InstanceIds: instances, DocumentName: document, Parameters: parameters,
                Comment: comment.map { String($0.prefix(100)) }, TimeoutSeconds: timeoutSeconds,
                OutputS3BucketName: output?.bucket, OutputS3KeyPrefix: output?.prefix,
                MaxConcurrency: maxConcurrency.map(String.init)),
            as: SendCommandOutput.self)
        return output.Command.CommandId
    }

    struct GetCommandInvocationInput: Encodable, Sendable {
        let CommandId: String
        let InstanceId: String
    }

    /// The command's result on one instance.
    ///
    /// Right after `SendCommand`, SSM may not know the invocation yet (`InvocationDoesNotExist`);
    /// callers that poll treat that as pending.
    public func invocation(command: String, instance: String) async throws -> CommandInvocation {
        try await aws.json(
            .ssm, operation: "GetCommandInvocation",
            input: GetCommandInvocationInput(CommandId: command, InstanceId: instance), as: CommandInvocation.self)
    }

    struct GetParameterInput: Encodable, Sendable {
        let Name: String
        let WithDecryption: Bool
    }

    struct GetParameterOutput: Decodable, Sendable {
        struct Parameter: Decodable, Sendable { let Value: String }
        let Parameter: Parameter
    }

    struct PutParameterInput: Encodable, Sendable {
        let Name: String
        let Value: String
        let `Type`: String
        let Overwrite: Bool
    }

    struct PutParameterOutput: Decodable, Sendable {}

    /// Writes the String parameter `name` (overwriting it).
    public func putParameter(_ name: String, value: String) async throws {
        _ = try await aws.json(
            .ssm, operation: "PutParameter",
            input: PutParameterInput(Name: name, Value: value, Type: "String", Overwrite: true),
            as: PutParameterOutput.self)
    }

    /// The value of parameter `name`, decrypted when `decrypt` (SecureString).
    public func parameter(_ name: String, decrypt: Bool = true) async throws -> String {
        try await aws.json(
            .ssm, operation: "GetParameter", input: GetParameterInput(Name: name, WithDecryption: decrypt),
            as: GetParameterOutput.self
        ).Parameter.Value
    }
}
