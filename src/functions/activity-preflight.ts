/** Preflight of a build: every subnet/NSG/region/role requirement; fails permanently, creating nothing. */
import { preflightActivity } from '../activities/preflight/run-preflight.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.preflight, preflightActivity);
