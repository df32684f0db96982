/**
 * The state the Image Builder emulation keeps per template and per run, and the names it checks. Plain data
 * (operations by id), so that persistence.ts can save and restore it.
 */
import type { Json } from '../store.js';
import type { RunPlan, RunState, RunSubState } from './build-run.js';
import type { EmulatedScan } from './scan-output.js';

export const TEMPLATE_TYPE = 'Microsoft.VirtualMachineImages/imageTemplates';
export const IMAGE_BUILDER_NAMESPACE = 'Microsoft.VirtualMachineImages';
export const NETWORK_JOIN_ACTION = 'Microsoft.Network/virtualNetworks/subnets/join/action';
export const IMAGE_WRITE_ACTION = 'Microsoft.Compute/images/write';
export const GALLERY_VERSION_WRITE_ACTION = 'Microsoft.Compute/galleries/images/versions/write';

export interface RunRecord {
  readonly guid: string;
  readonly plan: RunPlan;
  readonly continueOnValidationFailure: boolean;
  readonly exactVersion: string | undefined;
  /** The run's async operation (ids, so that a record is plain data: persistence.ts). */
  readonly opId: string;
  /** Events already applied. */
  applied: number;
  validationFailed: boolean;
  /** Why the build VM has no path to the internet (its downloads fail), when it has none. */
  readonly noEgress?: string | undefined;
  /** What the scan customizer prints and decides, when the template has one and customization reaches it. */
  readonly scan?: EmulatedScan | undefined;
  finished?: { runState: RunState; runSubState: RunSubState; endMs: number; message: string };
  cancelOpId?: string;
}

export interface TemplateRecord {
  readonly id: string;
  readonly name: string;
  readonly resourceGroup: string;
  readonly location: string;
  request: Json;
  canonical: string;
  identity: { id: string; principalId: string; clientId: string };
  readonly staging: { resourceGroup: string; createdGroup: boolean; account: string };
  provisioningState: 'Creating' | 'Succeeded' | 'Failed' | 'Deleting';
  /** Creation held in Creating by the control API (PUT /template-creation {hold: true}). */
  held?: boolean;
  deleteOpId?: string;
  provisioningError?: { provisioningErrorCode: string; message: string };
  createOpId: string;
  tags: Record<string, string> | undefined;
  run?: RunRecord;
  readonly runs: RunRecord[];
  readonly runOutputs: Map<string, Json>;
}
