/** The hash-named image template: reuse, or archive + delete the superseded one and create the new one. */
import { deployTemplate } from '../activities/template/deploy-template.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.deployTemplate, deployTemplate);
