/** Network Joiner on the virtual network and Contributor on the staging resource group (idempotent). */
import { ensurePersistentRoles } from '../activities/roles/persistent-roles.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.persistentRoles, ensurePersistentRoles);
