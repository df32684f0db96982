/** Tags the produced managed image with the build id. */
import { tagImage } from '../activities/image/tag-image.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.tagImage, tagImage);
