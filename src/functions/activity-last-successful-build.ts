/** The last successful build of a definition (for skipping up-to-date, unforced builds). */
import { lastSuccessfulBuild } from '../activities/last-successful-build.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.lastSuccessfulBuild, lastSuccessfulBuild);
