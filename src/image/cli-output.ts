/**
 * What the `template` and `egress` commands print, as pure functions of argv and the environment (the command
 * modules only write the result and map ArgumentError to a usage error).
 */
import { gateOf, manifestOf } from './definition.js';
import { egressAllowList, egressTable } from './egress.js';
import { exampleContext, exampleTemplateInput, findDefinition, PLACEHOLDER } from './example-context.js';
import { buildTemplateBody, templateNameFor, toArmRequestBody } from './template-body.js';

export class ArgumentError extends Error {}

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

type Env = Record<string, string | undefined>;

export const TEMPLATE_HELP = `Usage: jumpbox-builder template [--definition NAME] [--source-version X.Y.Z] [--sdk] [--name-only]

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

export const EGRESS_HELP = `Usage: jumpbox-builder egress [--definition NAME] [--json]

Prints every host the image build contacts (FQDN, port, why), derived from the definition's tools manifest:
the AIB service, package repositories, and the verified tool downloads (with their redirect targets).
  --definition NAME   definition from IMAGE_DEFINITIONS (default: the first configured, "aks-jumpbox")
  --json              JSON array of {fqdn, port, protocol, group, why} instead of a Markdown table
`;

function context(env: Env, definitionName: string | undefined) {
  try {
    const ctx = exampleContext(env);
    return { ctx, def: findDefinition(ctx, definitionName) };
  } catch (e) {
    throw new ArgumentError((e as Error).message);
  }
}

export function templateOutput(argv: readonly string[], env: Env): CommandOutput {
  let definitionName: string | undefined;
  let sourceVersion: string = PLACEHOLDER.sourceVersion;
  let sdk = false;
  let nameOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return { stdout: TEMPLATE_HELP, stderr: '' };
    if (a === '--definition') {
      definitionName = argv[++i];
      if (!definitionName) throw new ArgumentError('--definition needs a name');
    } else if (a === '--source-version') {
      const v = argv[++i];
      if (!v || !/^\d+\.\d+\.\d+$/.test(v))
        throw new ArgumentError('--source-version needs an exact version X.Y.Z');
      sourceVersion = v;
    } else if (a === '--sdk') sdk = true;
    else if (a === '--name-only') nameOnly = true;
    else throw new ArgumentError(`unknown option ${a}; run with --help`);
  }
  const { ctx, def } = context(env, definitionName);
  const notes = ctx.notes.map((n) => `note: ${n}\n`);
  if (sourceVersion === PLACEHOLDER.sourceVersion) {
    notes.push(`note: source version ${sourceVersion} is a placeholder; pass --source-version\n`);
  }
  const body = buildTemplateBody(exampleTemplateInput(ctx, def, sourceVersion));
  const name = templateNameFor(body);
  if (nameOnly) return { stdout: `${name}\n`, stderr: notes.join('') };
  return {
    stdout: `${JSON.stringify(sdk ? body : toArmRequestBody(body), null, 2)}\n`,
    stderr: `${notes.join('')}template name: ${name}\n`,
  };
}

export function egressOutput(argv: readonly string[], env: Env): CommandOutput {
  let definitionName: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return { stdout: EGRESS_HELP, stderr: '' };
    if (a === '--definition') {
      definitionName = argv[++i];
      if (!definitionName) throw new ArgumentError('--definition needs a name');
    } else if (a === '--json') json = true;
    else throw new ArgumentError(`unknown option ${a}; run with --help`);
  }
  const { def } = context(env, definitionName);
  const rules = egressAllowList(manifestOf(def), { scan: gateOf(def).enabled });
  return { stdout: json ? `${JSON.stringify(rules, null, 2)}\n` : `${egressTable(rules)}\n`, stderr: '' };
}
