/** The polling plan: expected duration from recent builds, interval bounds, deadline, log location. */
import { pollingPlan } from '../activities/polling-plan.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.pollingPolicy, pollingPlan);
