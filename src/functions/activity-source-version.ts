/** The exact marketplace version of the definition's source image (numeric sort). */
import { resolveSourceVersion } from '../activities/source-version.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.sourceVersion, resolveSourceVersion);
