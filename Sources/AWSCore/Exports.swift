// AWSCore's public API speaks in AWSSigning's types (credentials, providers, credential errors):
// importing AWSCore is enough to use it.
@_exported import AWSSigning
