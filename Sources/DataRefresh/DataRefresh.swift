/// Moves PROD data into DEV and UAT every night, safely and resumably.
///
/// The front door of the module. Planned (issue #6): `DataProvider` (database dump and shared
/// home to a snapshot with a manifest) and `DataRefresher` (snapshot to a target environment,
/// refusing PROD, resuming at the failed step).
public enum DataRefresh {}
