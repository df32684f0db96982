/** `jumpbox-builder template`: prints the image template body of a definition as JSON. */
import { ArgumentError, templateOutput } from '../../image/cli-output.js';
import { type CliCommand, UsageError } from '../dispatch.js';

export const command: CliCommand = {
  summary: 'print the image template body JSON of a definition (--definition NAME)',
  async run(argv) {
    try {
      const out = templateOutput(argv, process.env);
      process.stderr.write(out.stderr);
      process.stdout.write(out.stdout);
      return 0;
    } catch (e) {
      if (e instanceof ArgumentError) throw new UsageError(e.message);
      throw e;
    }
  },
};
