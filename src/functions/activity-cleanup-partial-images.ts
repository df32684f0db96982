/** Removes a cancelled or failed run's partial image or gallery version. */
import { cleanupPartialImages } from '../activities/image/cleanup-partial.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.cleanupPartialImages, cleanupPartialImages);
