/// Composes the modules into the pipeline's phases: DEV release, nightly integration, UAT, go-live.
///
/// The front door of the module. Planned (issue #8): the YAML pipeline config, phases as ordered
/// steps with a run report, and the PROD guard.
public enum Pipeline {}
