/** `jumpbox-builder egress`: prints the build subnet's egress allow-list for a definition. */
import { manifestOf } from '../../image/definition.js';
import { egressAllowList, egressTable } from '../../image/egress.js';
import { exampleContext, findDefinition } from '../../image/example-context.js';
import { type CliCommand, UsageError } from '../main.js';

const HELP = `Usage: jumpbox-builder egress [--definition NAME] [--json]

Prints every host the image build contacts (FQDN, port, why), derived from the definition's tools manifest:
the AIB service, package repositories, and the verified tool downloads (with their redirect targets).
  --definition NAME   definition from IMAGE_DEFINITIONS (default: the first configured, "aks-jumpbox")
  --json              JSON array of {fqdn, port, protocol, group, why} instead of a Markdown table
`;

export const command: CliCommand = {
  summary: 'print the egress allow-list (FQDN, port, why) for a definition (--json)',
  async run(argv) {
    let definitionName: string | undefined;
    let json = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--help' || a === '-h') {
        process.stdout.write(HELP);
        return 0;
      } else if (a === '--definition') {
        definitionName = argv[++i];
        if (!definitionName) throw new UsageError('--definition needs a name');
      } else if (a === '--json') json = true;
      else throw new UsageError(`unknown option ${a}; run with --help`);
    }
    let def: ReturnType<typeof findDefinition>;
    try {
      def = findDefinition(exampleContext(process.env), definitionName);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const rules = egressAllowList(manifestOf(def));
    process.stdout.write(json ? `${JSON.stringify(rules, null, 2)}\n` : `${egressTable(rules)}\n`);
    return 0;
  },
};
