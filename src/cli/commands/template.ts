/** `jumpbox-builder template`: prints the image template body of a definition as JSON. */
import {
  exampleContext,
  exampleTemplateInput,
  findDefinition,
  PLACEHOLDER,
} from '../../image/example-context.js';
import { buildTemplateBody, templateNameFor, toArmRequestBody } from '../../image/template-body.js';
import { type CliCommand, UsageError } from '../main.js';

const HELP = `Usage: jumpbox-builder template [--definition NAME] [--source-version X.Y.Z] [--sdk] [--name-only]

Prints the image template body of an image definition (default: the first configured, "aks-jumpbox").
  --definition NAME        definition from IMAGE_DEFINITIONS
  --source-version X.Y.Z   exact base image version to pin (the orchestration resolves "latest";
                           default ${PLACEHOLDER.sourceVersion}, a placeholder)
  --sdk                    print the @azure/arm-imagebuilder model instead of the ARM request body
  --name-only              print only the template name (<definition>-<12 hex of the body hash>)

Ids (subscription, identity, subnet, resource groups, location) come from the app settings when they are
valid (see \`jumpbox-builder config\`); otherwise PLACEHOLDER values are used and a note goes to stderr:
  subscription ${PLACEHOLDER.subscriptionId}, location ${PLACEHOLDER.location},
  resource groups rg-PLACEHOLDER-*, identity id-PLACEHOLDER-builder, subnet snet-PLACEHOLDER-imagebuilder.
`;

export const command: CliCommand = {
  summary: 'print the image template body JSON of a definition (--definition NAME)',
  async run(argv) {
    let definitionName: string | undefined;
    let sourceVersion: string = PLACEHOLDER.sourceVersion;
    let sdk = false;
    let nameOnly = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--help' || a === '-h') {
        process.stdout.write(HELP);
        return 0;
      } else if (a === '--definition') {
        definitionName = argv[++i];
        if (!definitionName) throw new UsageError('--definition needs a name');
      } else if (a === '--source-version') {
        const v = argv[++i];
        if (!v || !/^\d+\.\d+\.\d+$/.test(v))
          throw new UsageError('--source-version needs an exact version X.Y.Z');
        sourceVersion = v;
      } else if (a === '--sdk') sdk = true;
      else if (a === '--name-only') nameOnly = true;
      else throw new UsageError(`unknown option ${a}; run with --help`);
    }
    let ctx: ReturnType<typeof exampleContext>;
    let def: ReturnType<typeof findDefinition>;
    try {
      ctx = exampleContext(process.env);
      def = findDefinition(ctx, definitionName);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    for (const note of ctx.notes) process.stderr.write(`note: ${note}\n`);
    if (sourceVersion === PLACEHOLDER.sourceVersion) {
      process.stderr.write(`note: source version ${sourceVersion} is a placeholder; pass --source-version\n`);
    }
    const body = buildTemplateBody(exampleTemplateInput(ctx, def, sourceVersion));
    const name = templateNameFor(body);
    if (nameOnly) {
      process.stdout.write(`${name}\n`);
      return 0;
    }
    process.stderr.write(`template name: ${name}\n`);
    process.stdout.write(`${JSON.stringify(sdk ? body : toArmRequestBody(body), null, 2)}\n`);
    return 0;
  },
};
