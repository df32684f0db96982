/**
 * `tools check` and `tools bump` against a local fake upstream (the sandbox install test's server): every feed
 * in its upstream's shape, checksum files, and a HashiCorp-style SHA256SUMS signed with a throwaway key.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/dispatch.js';
import {
  DEFAULT_TOOLS_MANIFEST,
  expand,
  resolveManifest,
  TOOL_PINS,
  type ToolPins,
} from '../../src/image/tools-manifest.js';
import { bumpPins, hashForArtifact, VerificationError } from '../../src/supply-chain/tools-bump.js';
import { checkPins } from '../../src/supply-chain/tools-check.js';
import { createUpstreamFetcher, mappedUrl, UpstreamError } from '../../src/supply-chain/upstream-fetcher.js';
import {
  createSigningKey,
  disposeSigningKey,
  type FakeUpstream,
  type SigningKey,
  sha256,
  signDetached,
  startFakeUpstream,
} from '../image/support/fake-upstream.js';
import { serveFeeds } from './support/fake-feeds.js';

const PINS_FILE = new URL('../../src/image/tool-pins.json', import.meta.url);
const NOW = new Date('2026-12-01T00:00:00Z');
const pins: ToolPins = structuredClone(TOOL_PINS);
const helmPinned = pins.tools.helm?.version as string;
const terraformPinned = pins.tools.terraform?.version as string;
const tool = (id: string) => DEFAULT_TOOLS_MANIFEST.downloads.find((d) => d.id === id)!;

let upstream: FakeUpstream;
let work: string;
let key: SigningKey;
const out: string[] = [];
const err: string[] = [];
const originals = { out: process.stdout.write, err: process.stderr.write };

beforeAll(async () => {
  upstream = await startFakeUpstream();
  work = mkdtempSync(join(tmpdir(), 'jumpbox-tools-'));
  key = await createSigningKey(work);
}, 60_000);

afterAll(async () => {
  await upstream?.close();
  if (key) await disposeSigningKey(key);
  if (work) rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  upstream.files.clear();
  out.length = 0;
  err.length = 0;
});

afterEach(() => {
  process.stdout.write = originals.out;
  process.stderr.write = originals.err;
});

/** Runs `jumpbox-builder ARGS` in-process; returns the exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  process.stdout.write = ((s: string) => out.push(String(s)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => err.push(String(s)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  }
}

/** A private copy of tool-pins.json for a test to bump. */
function pinsCopy(name: string): string {
  const path = join(work, `${name}.json`);
  copyFileSync(PINS_FILE, path);
  return path;
}

/** Serves a release's artifact checksum file in the upstream's format; returns the artifact's hash. */
function serveChecksum(id: string, version: string, extraLines = ''): string {
  const t = tool(id);
  const artifact = expand(t.url, version);
  const name = artifact.slice(artifact.lastIndexOf('/') + 1);
  const hash = sha256(`${id} ${version} artifact`);
  upstream.files.set(
    expand(t.verify.checksumFile!.url, version),
    Buffer.from(`${extraLines}${hash}  ${name}\n`),
  );
  return hash;
}

const staleHelm = {
  helm: [
    { version: helmPinned, published: '2026-10-01T00:00:00Z' },
    {
      version: '3.22.1',
      published: '2026-11-01T00:00:00Z',
      body: 'Fixes CVE-2026-31337 in the chart loader.',
    },
    { version: '3.23.0-rc.1', prerelease: true, published: '2026-11-20T00:00:00Z' },
    { version: '4.3.0', published: '2026-11-10T00:00:00Z', body: 'Fixes CVE-2026-40000.' },
  ],
};

describe('tools check against the fake upstream', () => {
  it('reports a stale pin: releases and days behind on its track, and the advisory the newer release fixes', async () => {
    serveFeeds(upstream, DEFAULT_TOOLS_MANIFEST, pins, staleHelm);
    const fetcher = createUpstreamFetcher({ baseUrl: upstream.baseUrl });
    const statuses = await checkPins({ pins, manifest: DEFAULT_TOOLS_MANIFEST, fetcher, now: NOW });
    const helm = statuses.find((s) => s.id === 'helm')!;
    // Helm 4 is off the "3" track and 3.23.0-rc.1 is a pre-release: only 3.22.1 counts.
    expect(helm).toMatchObject({
      state: 'behind',
      pinned: helmPinned,
      latest: '3.22.1',
      behindReleases: 1,
      behindDays: 30,
      advisories: ['CVE-2026-31337'],
    });
    expect(statuses.filter((s) => s.state !== 'current').map((s) => s.id)).toEqual(['helm']);
    expect(upstream.hosts).toContain('api.github.com');
  });

  it('the CLI prints the stale pin with the advisory, exits 0, and 1 with --strict', async () => {
    serveFeeds(upstream, DEFAULT_TOOLS_MANIFEST, pins, staleHelm);
    const r = await cli('tools', 'check', '--pins', pinsCopy('check'), '--upstream', upstream.baseUrl);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `helm +${helmPinned.replaceAll('.', '\\.')} +3\\.22\\.1 +1 release, \\d+ days +fixes CVE-2026-31337`,
      ),
    );
    expect(r.stdout).toMatch(/terraform +\S+ +\S+ +current/);
    expect(r.stdout).toContain('1 behind, 0 feed errors');
    const strict = await cli(
      'tools',
      'check',
      '--strict',
      '--pins',
      pinsCopy('check'),
      '--upstream',
      upstream.baseUrl,
    );
    expect(strict.code).toBe(1);
  });

  it('kubectl counts the patches between its pin and the stable marker of the configured minor', async () => {
    serveFeeds(upstream, DEFAULT_TOOLS_MANIFEST, pins, {
      kubectl: [{ version: `${pins.kubernetesMinor}.4` }],
    });
    const r = await cli(
      'tools',
      'check',
      '--json',
      '--tool',
      'kubectl',
      '--pins',
      pinsCopy('k'),
      '--upstream',
      upstream.baseUrl,
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { tools: Array<Record<string, unknown>> };
    const kubectlPin = pins.tools.kubectl?.version ?? '';
    const pinnedPatch = Number(kubectlPin.split('.')[2]);
    expect(report.tools).toEqual([
      expect.objectContaining({
        id: 'kubectl',
        state: 'behind',
        latest: `${pins.kubernetesMinor}.4`,
        behindReleases: 4 - pinnedPatch,
        feedUrl: `https://dl.k8s.io/release/stable-${pins.kubernetesMinor}.txt`,
      }),
    ]);
  });

  it('a feed that cannot be read is named with its URL and the exit code is 2', async () => {
    serveFeeds(upstream, DEFAULT_TOOLS_MANIFEST, pins);
    upstream.files.delete('https://releases.hashicorp.com/terraform/index.json');
    const r = await cli('tools', 'check', '--pins', pinsCopy('err'), '--upstream', upstream.baseUrl);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      'terraform: https://releases.hashicorp.com/terraform/index.json answered HTTP 404',
    );
  });
});

describe('tools bump against the fake upstream', () => {
  it('writes the new version and the checksum file hash, and leaves current pins alone', async () => {
    serveFeeds(upstream, DEFAULT_TOOLS_MANIFEST, pins, {
      ...staleHelm,
      'azure-cli': [{ version: pins.tools['azure-cli']?.version as string }, { version: '2.94.0' }],
    });
    const hash = serveChecksum('helm', '3.22.1', `${sha256('darwin')}  helm-v3.22.1-darwin-amd64.tar.gz\n`);
    const file = pinsCopy('bump');
    const r = await cli('tools', 'bump', '--pins', file, '--upstream', upstream.baseUrl);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const after = JSON.parse(readFileSync(file, 'utf8')) as ToolPins;
    expect(after.tools.helm).toMatchObject({
      version: '3.22.1',
      sha256: hash,
      sha256Source: 'https://get.helm.sh/helm-v3.22.1-linux-amd64.tar.gz.sha256sum',
    });
    expect(after.tools.helm?.versionSource).toContain('github.com/helm/helm releases');
    // apt verifies azure-cli's signed index at install time: version only.
    expect(after.tools['azure-cli']).toMatchObject({ version: '2.94.0' });
    expect(after.tools['azure-cli']?.sha256).toBeUndefined();
    expect(after.tools.terraform).toEqual(pins.tools.terraform);
    expect(r.stdout).toContain(`helm ${helmPinned} -> 3.22.1 sha256 ${hash}`);
  });

  it("verifies HashiCorp's signed SHA256SUMS before taking terraform's hash", async () => {
    const manifest = resolveManifest({ terraform: { keyFingerprint: key.fingerprint } });
    serveFeeds(upstream, manifest, pins, {
      terraform: [{ version: terraformPinned }, { version: '1.16.6' }],
    });
    const hash = await serveSignedSums('1.16.6');
    const fetcher = createUpstreamFetcher({ baseUrl: upstream.baseUrl });
    const result = await bumpPins({ pins, manifest, fetcher, now: NOW });
    expect(result.changes.map((c) => c.id)).toEqual(['terraform']);
    expect(result.pins.tools.terraform).toMatchObject({
      version: '1.16.6',
      sha256: hash,
      sha256Source: `https://releases.hashicorp.com/terraform/1.16.6/terraform_1.16.6_SHA256SUMS (signature verified with key ${key.fingerprint})`,
    });
  }, 30_000);

  it('refuses a SHA256SUMS altered after signing (bad signature)', async () => {
    const manifest = resolveManifest({ terraform: { keyFingerprint: key.fingerprint } });
    serveFeeds(upstream, manifest, pins, {
      terraform: [{ version: terraformPinned }, { version: '1.16.6' }],
    });
    await serveSignedSums('1.16.6');
    const sumsUrl = 'https://releases.hashicorp.com/terraform/1.16.6/terraform_1.16.6_SHA256SUMS';
    const tampered = upstream.files
      .get(sumsUrl)!
      .toString()
      .replace(/^[0-9a-f]{64}/m, 'e'.repeat(64));
    upstream.files.set(sumsUrl, Buffer.from(tampered));
    const fetcher = createUpstreamFetcher({ baseUrl: upstream.baseUrl });
    const bump = bumpPins({ pins, manifest, fetcher, now: NOW });
    await expect(bump).rejects.toThrow(VerificationError);
    await expect(bump).rejects.toThrow(`bad signature (key ${key.fingerprint})`);
  }, 30_000);

  it("the CLI refuses a SHA256SUMS not signed by HashiCorp's pinned key: one line, exit 1, file unchanged", async () => {
    serveFeeds(upstream, DEFAULT_TOOLS_MANIFEST, pins, {
      ...staleHelm,
      terraform: [{ version: terraformPinned }, { version: '1.16.6' }],
    });
    serveChecksum('helm', '3.22.1');
    await serveSignedSums('1.16.6');
    const file = pinsCopy('refuse');
    const before = readFileSync(file, 'utf8');
    const r = await cli('tools', 'bump', '--pins', file, '--upstream', upstream.baseUrl);
    expect(r.code).toBe(1);
    const pinned = tool('terraform').verify.signature!.keyFingerprint;
    expect(r.stderr).toBe(
      `jumpbox-builder tools bump: refused: terraform 1.16.6 terraform_1.16.6_SHA256SUMS: signing key is not ${pinned} (found: ${key.fingerprint}); tool-pins.json unchanged\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe(before);
  }, 30_000);

  it('refuses a checksum file without exactly one entry for the artifact', async () => {
    serveFeeds(upstream, DEFAULT_TOOLS_MANIFEST, pins, staleHelm);
    upstream.files.set(
      'https://get.helm.sh/helm-v3.22.1-linux-amd64.tar.gz.sha256sum',
      Buffer.from(`${sha256('x')}  helm-v3.22.1-darwin-amd64.tar.gz\n`),
    );
    const file = pinsCopy('missing');
    const before = readFileSync(file, 'utf8');
    const r = await cli('tools', 'bump', '--pins', file, '--upstream', upstream.baseUrl);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has no single entry for helm-v3.22.1-linux-amd64.tar.gz');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('--kubernetes-minor moves kubectl to the newest patch of that minor', async () => {
    const minor = '1.36';
    serveFeeds(
      upstream,
      DEFAULT_TOOLS_MANIFEST,
      { ...pins, kubernetesMinor: minor },
      { kubectl: [{ version: `${minor}.9` }] },
    );
    const hash = sha256('kubectl 1.36.9');
    upstream.files.set(
      `https://dl.k8s.io/release/v${minor}.9/bin/linux/amd64/kubectl.sha256`,
      Buffer.from(`${hash}\n`),
    );
    const file = pinsCopy('minor');
    const r = await cli(
      'tools',
      'bump',
      '--kubernetes-minor',
      minor,
      '--tool',
      'kubectl',
      '--pins',
      file,
      '--upstream',
      upstream.baseUrl,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const after = JSON.parse(readFileSync(file, 'utf8')) as ToolPins;
    expect(after.kubernetesMinor).toBe(minor);
    expect(after.tools.kubectl).toMatchObject({ version: `${minor}.9`, sha256: hash });
  });
});

describe('the upstream fetcher', () => {
  it('maps https://HOST/PATH under the base URL, refuses non-https upstreams and a bad base URL', async () => {
    expect(mappedUrl('https://api.github.com/repos/a/b/releases?per_page=100', 'http://127.0.0.1:1/')).toBe(
      'http://127.0.0.1:1/api.github.com/repos/a/b/releases?per_page=100',
    );
    expect(mappedUrl('https://dl.k8s.io/release/stable-1.37.txt', undefined)).toBe(
      'https://dl.k8s.io/release/stable-1.37.txt',
    );
    expect(() => mappedUrl('http://dl.k8s.io/x', undefined)).toThrow(UpstreamError);
    expect(() => createUpstreamFetcher({ baseUrl: 'ftp://mirror' })).toThrow('is not an http(s) URL');
    const r = await cli('tools', 'check', '--upstream', 'ftp://mirror', '--pins', pinsCopy('ftp'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'jumpbox-builder tools: upstream base URL "ftp://mirror" is not an http(s) URL',
    );
  });
});

describe('checksum file parsing', () => {
  it('takes a bare hash file or the one line naming the artifact', () => {
    const h = 'a'.repeat(64);
    expect(hashForArtifact(`${h}\n`, 'kubectl')).toBe(h);
    expect(hashForArtifact(`${'b'.repeat(64)}  x.zip\n${h} *dir/y.zip\n`, 'y.zip')).toBe(h);
    expect(hashForArtifact(`${h}  y.zip\n${'b'.repeat(64)}  y.zip\n`, 'y.zip')).toBeUndefined();
    expect(hashForArtifact(`${h}\n${'b'.repeat(64)}\n`, 'kubectl')).toBeUndefined();
  });
});

/** Serves terraform VERSION's SHA256SUMS, its detached signature by the throwaway key, and that key. */
async function serveSignedSums(version: string): Promise<string> {
  const t = tool('terraform');
  const hash = serveChecksum(
    'terraform',
    version,
    `${sha256('darwin')}  terraform_${version}_darwin_arm64.zip\n`,
  );
  const sumsUrl = expand(t.verify.checksumFile!.url, version);
  const path = join(work, `SHA256SUMS-${version}`);
  writeFileSync(path, upstream.files.get(sumsUrl)!);
  upstream.files.set(expand(t.verify.signature!.url, version), await signDetached(key, path));
  upstream.files.set(t.verify.signature!.keyUrl, Buffer.from(key.publicKeyArmored));
  return hash;
}
