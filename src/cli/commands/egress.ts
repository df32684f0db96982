/** `jumpbox-builder egress`: prints the build subnet's egress allow-list for a definition. */
import { egressOutput } from '../../image/cli-output.js';
import { imageOutputCommand } from '../image-output-command.js';

export const command = imageOutputCommand(
  'print the egress allow-list (FQDN, port, why) for a definition (--json)',
  egressOutput,
);
