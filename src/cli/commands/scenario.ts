/**
 * `npm run cli -- scenario --print-default` prints the scenario `npm run simulate` and `npm run local`
 * start from, as JSON, to copy and edit for `--scenario FILE`; `scenario --check FILE` validates a file.
 * The format is documented in docs/simulate.md.
 */
import { CLI_DEFAULT_SCENARIO, loadScenario } from '../../local/scenarios/index.js';
import { type CliCommand, UsageError } from '../dispatch.js';

const USAGE = 'usage: jumpbox-builder scenario --print-default | --check FILE';

export const command: CliCommand = {
  summary: 'print the default emulator scenario as JSON (--print-default) or check a scenario file',
  usage: `${USAGE}

  --print-default   print the scenario that simulate and local start from, as JSON (copy and edit it)
  --check FILE      validate a scenario file; exit 1 with the problem when it is invalid
`,
  async run(argv) {
    if (argv.length === 1 && argv[0] === '--print-default') {
      process.stdout.write(`${JSON.stringify(CLI_DEFAULT_SCENARIO, null, 2)}\n`);
      return 0;
    }
    if (argv.length === 2 && argv[0] === '--check') {
      try {
        loadScenario(argv[1]!, CLI_DEFAULT_SCENARIO);
      } catch (e) {
        process.stderr.write(`jumpbox-builder scenario: ${(e as Error).message}\n`);
        return 1;
      }
      process.stdout.write(`${argv[1]}: a valid scenario\n`);
      return 0;
    }
    throw new UsageError(USAGE);
  },
};
