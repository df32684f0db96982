/**
 * The app's entry module ("main" in package.json points at its compiled form): it imports every
 * registration explicitly, one file per trigger or durable function.
 */
