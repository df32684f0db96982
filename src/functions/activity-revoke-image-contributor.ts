/** Removes the Image Contributor grant (kept while another definition's build runs). */
import { revokeUnlessOthersRunning } from '../activities/roles/janitor.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.revokeImageContributor, revokeUnlessOthersRunning);
