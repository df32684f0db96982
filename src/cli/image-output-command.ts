/** A CLI command that prints what an image-output function renders from argv and the app settings. */
import { ArgumentError } from '../image/cli-output.js';
import { type CliCommand, UsageError } from './dispatch.js';

type Render = (argv: readonly string[], env: NodeJS.ProcessEnv) => { stdout: string; stderr: string };

export function imageOutputCommand(summary: string, render: Render): CliCommand {
  return {
    summary,
    async run(argv) {
      try {
        const out = render(argv, process.env);
        process.stderr.write(out.stderr);
        process.stdout.write(out.stdout);
        return 0;
      } catch (e) {
        if (e instanceof ArgumentError) throw new UsageError(e.message);
        throw e;
      }
    },
  };
}
