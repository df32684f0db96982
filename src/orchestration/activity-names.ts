/** Names of the build's activities and sub-orchestration (registered in src/functions, one file each). */
export const ACTIVITY = {
  preflight: 'buildPreflight',
  builderIdentity: 'buildResolveBuilderIdentity',
  persistentRoles: 'buildEnsurePersistentRoles',
  sourceVersion: 'buildResolveSourceVersion',
  deployTemplate: 'buildDeployTemplate',
  grantImageContributor: 'buildGrantImageContributor',
  revokeImageContributor: 'buildRevokeImageContributor',
  pollingPolicy: 'buildPollingPolicy',
  startRun: 'buildStartRun',
  runStatus: 'buildGetRunStatus',
  cancelRun: 'buildCancelRun',
  archiveLogs: 'buildArchiveLogs',
  collectSupplyChain: 'buildCollectSupplyChain',
  promoteImage: 'buildPromoteImage',
  cleanupPartialImages: 'buildCleanupPartialImages',
  recordBuild: 'buildRecord',
  checkUpToDate: 'buildCheckUpToDate',
} as const;

/** Sub-orchestration that polls a run until its sub-state changes, it ends, or the deadline passes. */
export const POLL_RUN_ORCHESTRATOR = 'buildPollRunOrchestrator';

/** Timer function that removes stale Image Contributor grants. */
export const JANITOR_TIMER = 'buildImageContributorJanitor';
