/** Reads the run's lastRunStatus (and run outputs once it succeeded). */
import { getRunStatus } from '../activities/run/image-run.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.runStatus, getRunStatus);
