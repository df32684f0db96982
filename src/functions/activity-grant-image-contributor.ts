/** Just-in-time Image Contributor on the destination resource group. */
import { grantImageContributor } from '../activities/roles/image-contributor.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.grantImageContributor, grantImageContributor);
