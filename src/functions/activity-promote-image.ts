/** Marks the new image current and applies IMAGE_RETENTION_COUNT (after a successful build only). */
import { promoteImage } from '../activities/image/promote-image.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.promoteImage, promoteImage);
