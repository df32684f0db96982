/** Server-side copy of the run's logs into the archive container under <definition>/<build-id>/. */
import { archiveBuildLogs } from '../activities/logs/archive-build-logs.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.archiveLogs, archiveBuildLogs);
