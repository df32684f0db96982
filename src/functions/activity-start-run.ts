/** Starts the Image Builder run without waiting for it. */
import { startRun } from '../activities/run/image-run.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.startRun, startRun);
