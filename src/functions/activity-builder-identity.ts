/** The builder identity (read, or create when configured): principal and client ids. */
import { resolveBuilderIdentity } from '../activities/builder-identity.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.builderIdentity, (deps) => resolveBuilderIdentity(deps));
