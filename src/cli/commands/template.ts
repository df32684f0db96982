/** `jumpbox-builder template`: prints the image template body of a definition as JSON. */
import { templateOutput } from '../../image/cli-output.js';
import { imageOutputCommand } from '../image-output-command.js';

export const command = imageOutputCommand(
  'print the image template body JSON of a definition (--definition NAME)',
  templateOutput,
);
