/**
 * Readable image-definition errors: every zod issue of an IMAGE_DEFINITIONS parse becomes one problem that
 * names the field (`[0].distribute.gallery.targetRegions`), what is wrong with the value given, and the fix,
 * instead of zod's generic wording ("Invalid input: expected string, received number"). Messages the schema
 * authors wrote (src/image/definition.ts) already say what to do; they are kept, with the offending value.
 *
 * All problems of a parse are reported together. Checks that span several fields (refinements, the tools
 * manifest) run once every single field is valid, so they can appear on a second attempt.
 */
import type { z } from 'zod';

export interface DefinitionProblem {
  /** Path inside IMAGE_DEFINITIONS, e.g. "[0].vmSize" ("(root)" for the array itself). */
  readonly field: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

/** What a valid value looks like, by field name (the last path segment, or parent.field). */
const FIELD_HINTS: Readonly<Record<string, string>> = {
  '(root)': 'a JSON array of definitions, e.g. [{"name":"aks-jumpbox"}]',
  '(definition)': 'an object such as {"name":"aks-jumpbox"}',
  name: '3-32 lowercase letters, digits and hyphens, starting with a letter, e.g. "aks-jumpbox"',
  source:
    '{"offer":"ubuntu-24_04-lts","sku":"server","version":"latest"} or {"galleryImageId":"/subscriptions/…/galleries/…/images/…"}',
  'source.publisher': '"Canonical" (the default)',
  'source.offer': '"ubuntu-24_04-lts" (with sku "server") or "0001-com-ubuntu-server-jammy"',
  'source.sku': '"server" (Ubuntu 24.04) or "22_04-lts-gen2" (Ubuntu 22.04)',
  'source.version': '"latest" or an exact version such as "24.04.202501140"',
  'source.galleryImageId':
    '/subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{g}/images/{i}',
  vmSize: 'a VM size such as "Standard_D2ds_v5"',
  proxyVmSize: 'a VM size such as "Standard_A1_v2"',
  osDiskSizeGB: 'a whole number of GB from 30 to 4096 (default 64)',
  buildTimeoutInMinutes: 'whole minutes from 6 to 960 (default 90)',
  buildSubnetId:
    'a subnet id /subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}',
  containerInstanceSubnetId:
    'a subnet id /subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}',
  tools: 'an object keyed by tool id, e.g. {"kubectl":{"version":"1.33.1"}}',
  enabled: 'true or false',
  version: 'a version string such as "1.33.1"',
  sha256: '64 lower-case hex characters (the published SHA-256 of the download)',
  keyFingerprint: '40 upper-case hex characters without spaces',
  distribute: '{"managedImage":true} and/or {"gallery":{…}}',
  managedImage: 'true or false',
  gallery:
    '{"imageDefinitionId":"/subscriptions/…/galleries/…/images/…","targetRegions":[{"name":"eastus2"}]}',
  imageDefinitionId:
    '/subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{g}/images/{i}',
  'targetRegions.name': 'a region name in lower case without spaces, e.g. "eastus2"',
  targetRegions: 'a list such as [{"name":"eastus2","replicaCount":1}]',
  replicaCount: 'a whole number from 1 to 100',
  storageAccountType: '"Standard_LRS", "Standard_ZRS" or "Premium_LRS"',
  excludeFromLatest: 'true or false',
  replicationMode: '"Full" or "Shallow"',
  versioning: '{"scheme":"Latest"} or {"scheme":"Source"}',
  tags: 'an object of string values, e.g. {"team":"platform"}',
};

/** Fields an object at this place accepts (for "unknown field" fixes), by the parent field name. */
const KNOWN_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '(definition)': [
    'name',
    'source',
    'vmSize',
    'osDiskSizeGB',
    'buildTimeoutInMinutes',
    'buildSubnetId',
    'containerInstanceSubnetId',
    'proxyVmSize',
    'tools',
    'distribute',
    'tags',
  ],
  source: ['publisher', 'offer', 'sku', 'version', 'galleryImageId'],
  distribute: ['managedImage', 'gallery'],
  gallery: ['imageDefinitionId', 'targetRegions', 'excludeFromLatest', 'replicationMode', 'versioning'],
  targetRegions: ['name', 'replicaCount', 'storageAccountType'],
  tools: ['enabled', 'version', 'sha256', 'sha256Source', 'keyFingerprint', 'kubernetesMinor'],
  /** A tool the definition adds (an entry with `url`). */
  'tools (added)': [
    'displayName',
    'enabled',
    'version',
    'url',
    'archive',
    'member',
    'binary',
    'sha256',
    'sha256Source',
    'checksumUrl',
    'signature',
    'versionCommand',
    'feed',
  ],
};

/** `[0].distribute.gallery` */
export function fieldPath(path: readonly PathKey[]): string {
  const text = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return text || '(root)';
}

function valueAt(input: unknown, path: readonly PathKey[]): unknown {
  let cur = input;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** The name that FIELD_HINTS uses for a path. */
function fieldKey(path: readonly PathKey[]): string {
  if (path.length === 0) return '(root)';
  const names = path.filter((p): p is string => typeof p === 'string');
  if (names.length === 0) return '(definition)';
  const last = names.at(-1)!;
  // tools.<id>.field → field; tools.<id> → the tool override object.
  if (names[0] === 'tools') return names.length >= 3 ? last : 'tools';
  if (names[0] === 'tags') return 'tags';
  if (names[0] === 'source' && names.length === 2) return `source.${last}`;
  if (names.at(-2) === 'targetRegions' && last === 'name') return 'targetRegions.name';
  return last;
}

function parentKey(path: readonly PathKey[]): string {
  const names = path.filter((p): p is string => typeof p === 'string');
  if (names.length === 0) return '(definition)';
  if (names[0] === 'tools') return 'tools';
  return names.at(-1)!;
}

function hintFor(path: readonly PathKey[]): string | undefined {
  return FIELD_HINTS[fieldKey(path)];
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function article(type: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    object: 'an object',
    array: 'a list',
    record: 'an object',
  };
  return names[type] ?? type;
}

/** Levenshtein distance, for "did you mean" on unknown fields. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (x[i - 1] === y[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[y.length]!;
}

/** zod's own wording (to be replaced) as opposed to a message the schema's author wrote. */
function isDefaultWording(message: string): boolean {
  return /^(Invalid input|Too small|Too big|Invalid string|Invalid option|Invalid key in record|Invalid element|Unrecognized key|Invalid (number|format))/.test(
    message,
  );
}

function withHint(text: string, path: readonly PathKey[]): string {
  const hint = hintFor(path);
  return hint ? `${text}; use ${hint}` : text;
}

function unknownField(path: readonly PathKey[], key: string, input?: unknown): DefinitionProblem {
  const parent = parentKey(path);
  const here = valueAt(input, path);
  const added = parent === 'tools' && typeof here === 'object' && here !== null && 'url' in here;
  const known = KNOWN_FIELDS[added ? 'tools (added)' : parent] ?? [];
  const best = known
    .map((k) => ({ k, d: distance(k, key) }))
    .filter(
      (c) =>
        c.d <= Math.max(2, Math.floor(key.length / 3)) ||
        (key.length >= 5 && c.k.toLowerCase().startsWith(key.slice(0, 5).toLowerCase())),
    )
    .sort((a, b) => a.d - b.d)[0];
  const fix = best
    ? `did you mean "${best.k}"? Otherwise remove it`
    : `remove it${known.length ? ` (fields here: ${known.join(', ')})` : ''}`;
  return { field: fieldPath([...path, key]), message: `is not a known field; ${fix}` };
}

function problemsOf(issue: Issue, input: unknown): DefinitionProblem[] {
  const path = issue.path as readonly PathKey[];
  const field = fieldPath(path);
  const value = valueAt(input, path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => unknownField(path, k, input));
    case 'invalid_type': {
      if (value === undefined) {
        return [{ field, message: withHint(`is required and missing`, path) }];
      }
      const text = `must be ${article(issue.expected)}, not ${describe(value)}`;
      return [{ field, message: issue.expected === 'boolean' ? text : withHint(text, path) }];
    }
    case 'too_small':
    case 'too_big': {
      if (!isDefaultWording(issue.message)) {
        return [{ field, message: `${issue.message} (got ${describe(value)})` }];
      }
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const what =
        issue.origin === 'array'
          ? `needs ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)} item(s)`
          : issue.origin === 'string'
            ? `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)} characters long`
            : `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)}`;
      return [{ field, message: withHint(`${what} (got ${describe(value)})`, path) }];
    }
    case 'invalid_value':
      return [
        {
          field,
          message: `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, not ${describe(value)}`,
        },
      ];
    case 'invalid_format':
      return [
        {
          field,
          message: isDefaultWording(issue.message)
            ? withHint(`has the wrong format (${describe(value)})`, path)
            : `${describe(value)}: ${issue.message}`,
        },
      ];
    case 'invalid_key': {
      const key = path.at(-1);
      const inner = issue.issues.map((i) => i.message).join('; ');
      return [{ field, message: `the key ${JSON.stringify(String(key))} is not allowed: ${inner}` }];
    }
    case 'invalid_union':
      return [
        { field, message: withHint(`matches none of the accepted forms (got ${describe(value)})`, path) },
      ];
    default: {
      // custom (refinements, the source dispatcher) and anything else: keep an authored message as is.
      const m = /^Unrecognized keys?: (.+)$/.exec(issue.message.split(';')[0] ?? '');
      if (m) {
        const keys = [...m[1]!.matchAll(/"([^"]+)"/g)].map((k) => k[1]!);
        const extra = issue.message.includes(';') ? issue.message.slice(issue.message.indexOf(';')) : '';
        return keys.map((k) => {
          const p = unknownField(path, k, input);
          return { ...p, message: `${p.message}${extra}` };
        });
      }
      if (isDefaultWording(issue.message)) {
        return [{ field, message: withHint(`is not valid (got ${describe(value)})`, path) }];
      }
      const primitive = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      return [
        {
          field,
          message:
            primitive && !issue.message.includes(String(value))
              ? `${issue.message} (got ${describe(value)})`
              : issue.message,
        },
      ];
    }
  }
}

/** Every issue of an IMAGE_DEFINITIONS parse as readable problems, in the order zod found them. */
export function definitionProblems(issues: readonly Issue[], input: unknown): DefinitionProblem[] {
  return issues.flatMap((i) => problemsOf(i, input));
}

/** "[0].vmSize: must be a string, not 5; use a VM size such as …", one line per problem. */
export function formatDefinitionProblems(issues: readonly Issue[], input: unknown): string[] {
  return definitionProblems(issues, input).map((p) => `${p.field}: ${p.message}`);
}
