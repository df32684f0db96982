/** `jumpbox-builder egress`: prints the build subnet's egress allow-list for a definition. */
import { ArgumentError, egressOutput } from '../../image/cli-output.js';
import { type CliCommand, UsageError } from '../dispatch.js';

export const command: CliCommand = {
  summary: 'print the egress allow-list (FQDN, port, why) for a definition (--json)',
  async run(argv) {
    try {
      const out = egressOutput(argv, process.env);
      process.stderr.write(out.stderr);
      process.stdout.write(out.stdout);
      return 0;
    } catch (e) {
      if (e instanceof ArgumentError) throw new UsageError(e.message);
      throw e;
    }
  },
};
