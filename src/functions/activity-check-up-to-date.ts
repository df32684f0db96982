/** Read-only up-to-date check (template plan + last successful build), made before any grant. */
import { checkUpToDate } from '../activities/last-successful-build.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.checkUpToDate, checkUpToDate);
