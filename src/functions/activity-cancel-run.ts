/** Asks Image Builder to cancel the run (does not wait). */
import { cancelRun } from '../activities/run/image-run.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.cancelRun, cancelRun);
