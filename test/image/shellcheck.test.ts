import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { customizerScripts, validationScripts } from '../../src/image/customizer-scripts.js';
import { DEFAULT_TOOLS_MANIFEST, resolveManifest } from '../../src/image/tools-manifest.js';
import { DEFAULT_GATE, type VulnerabilityGate } from '../../src/supply-chain/gate.js';

const run = promisify(execFile);
const SHELLCHECK = process.env.SHELLCHECK ?? '/usr/bin/shellcheck';
const dir = mkdtempSync(join(tmpdir(), 'jumpbox-shellcheck-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const manifests = {
  default: DEFAULT_TOOLS_MANIFEST,
  'all-optional': resolveManifest({
    osm: { enabled: true },
    'aks-preview': { enabled: true, version: '1.0.0b1' },
  }),
  'no-azure-cli': resolveManifest({ 'azure-cli': { enabled: false } }),
  'added-tool': resolveManifest({
    k9s: {
      version: '0.50.9',
      url: 'https://github.com/derailed/k9s/releases/download/v{version}/k9s_Linux_amd64.tar.gz',
      archive: 'tar.gz',
      member: 'k9s',
      binary: 'k9s',
      checksumUrl: 'https://github.com/derailed/k9s/releases/download/v{version}/checksums.sha256',
      versionCommand: 'k9s version --short',
    },
  }),
};

const gates = {
  default: DEFAULT_GATE,
  allowlisted: {
    enabled: true,
    failOn: 'CRITICAL',
    allowlist: [{ id: 'CVE-2024-6387', expires: '2027-01-31', reason: 'quote \' and "double" survive' }],
  } satisfies VulnerabilityGate,
};

async function shellcheck(file: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(SHELLCHECK, ['--shell=bash', '--severity=style', '--format=gcc', file]);
    return { code: 0, out: r.stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: err.code ?? 1, out: err.stdout ?? String(e) };
  }
}

describe.skipIf(!existsSync(SHELLCHECK) && !process.env.CI)('shellcheck on every generated script', () => {
  for (const [label, manifest] of Object.entries(manifests)) {
    for (const script of [
      ...customizerScripts(manifest, label === 'added-tool' ? gates.allowlisted : gates.default),
      ...validationScripts(manifest),
    ]) {
      it(`${label}: ${script.name} is clean`, async () => {
        const file = join(dir, `${label}-${script.name}.sh`);
        writeFileSync(file, script.content);
        const r = await shellcheck(file);
        expect(r.out).toBe('');
        expect(r.code).toBe(0);
        expect(script.content.startsWith('#!/usr/bin/env bash\n')).toBe(true);
        expect(script.content).toContain('set -euo pipefail');
        expect(script.content).not.toMatch(/curl[^\n]*\|\s*(sudo\s+)?(ba)?sh/);
      });
    }
  }

  it('shellcheck does flag a broken script (the check can fail)', async () => {
    const file = join(dir, 'broken.sh');
    writeFileSync(file, '#!/usr/bin/env bash\nrm -rf $1/*\n');
    const r = await shellcheck(file);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/SC2086|SC2115/);
  });
});
