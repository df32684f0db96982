/** Extracts the SBOM, the vulnerability report and tools.lock from the archived log; writes provenance. */
import { collectSupplyChain } from '../activities/supply-chain/collect-supply-chain.js';
import { ACTIVITY } from '../orchestration/activity-names.js';
import { registerBuildActivity } from './build-activity-registration.js';

registerBuildActivity(ACTIVITY.collectSupplyChain, collectSupplyChain);
