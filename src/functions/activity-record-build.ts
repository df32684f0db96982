/** Writes one phase update to the build record (Table storage). */
import { recordBuild } from '../activities/record-build.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.recordBuild, recordBuild);
