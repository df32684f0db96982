/**
 * Runs the generated scripts for real in a sandbox (no root): a local server plays every upstream, the install
 * prefix is a temp dir, apt is skipped. Proves that verified artifacts install, that any tampering stops the
 * script non-zero before anything is installed, that in-VM validation compares versions, and that the hosts
 * the script contacts are exactly the manifest's tool-download egress list.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hardenOsScript,
  installToolsScript,
  SSHD_HARDENING,
  validateScript,
} from '../../src/image/customizer-scripts.js';
import { downloadRules } from '../../src/image/egress.js';
import {
  DEFAULT_TOOLS_MANIFEST,
  enabledDownloads,
  expand,
  resolveManifest,
  TOOL_PINS,
  type ToolOverride,
  type ToolsManifest,
} from '../../src/image/tools-manifest.js';
import {
  buildArtifact,
  checksumFile,
  createSigningKey,
  disposeSigningKey,
  type FakeUpstream,
  type SigningKey,
  sha256,
  signDetached,
  startFakeUpstream,
  zipOne,
} from './support/fake-upstream.js';

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runBash(script: string, env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let work: string;
let upstream: FakeUpstream;
let key: SigningKey;
let overrides: Record<string, ToolOverride>;
let manifest: ToolsManifest;
let installScript: string;
const artifactUrl = (id: string) => {
  const t = manifest.downloads.find((d) => d.id === id)!;
  return expand(t.url, t.version);
};
const artifactName = (id: string) => artifactUrl(id).slice(artifactUrl(id).lastIndexOf('/') + 1);
const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const checksumUrl = (id: string) => {
  const t = manifest.downloads.find((d) => d.id === id)!;
  return expand(t.verify.checksumFile!.url, t.version);
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'jumpbox-sandbox-'));
  upstream = await startFakeUpstream();
  key = await createSigningKey(work);
  keys.push(key);
  // Pinned hashes of the fake artifacts and the sandbox key stand in for the real published values.
  overrides = {};
  const artifacts = new Map<string, Buffer>();
  for (const tool of enabledDownloads(DEFAULT_TOOLS_MANIFEST)) {
    const data = await buildArtifact(tool, work);
    artifacts.set(tool.id, data);
    if (tool.verify.pinned)
      overrides[tool.id] = { sha256: sha256(data), sha256Source: 'sandbox fake artifact' };
    if (tool.verify.signature)
      overrides[tool.id] = { ...overrides[tool.id], keyFingerprint: key.fingerprint };
  }
  manifest = resolveManifest(overrides);
  for (const tool of enabledDownloads(manifest)) {
    const data = artifacts.get(tool.id)!;
    const url = expand(tool.url, tool.version);
    upstream.files.set(url, data);
    if (tool.verify.checksumFile) {
      const sumsUrl = expand(tool.verify.checksumFile.url, tool.version);
      const sums = checksumFile(tool, url.slice(url.lastIndexOf('/') + 1), sha256(data));
      upstream.files.set(sumsUrl, Buffer.from(sums));
      if (tool.verify.signature) {
        const sumsPath = join(work, `${tool.id}-SHA256SUMS`);
        writeFileSync(sumsPath, sums);
        upstream.files.set(
          expand(tool.verify.signature.url, tool.version),
          await signDetached(key, sumsPath),
        );
        upstream.files.set(tool.verify.signature.keyUrl, Buffer.from(key.publicKeyArmored));
      }
    }
  }
  installScript = join(work, 'install-tools.sh');
  writeFileSync(installScript, installToolsScript(manifest));
}, 60_000);

const keys: SigningKey[] = [];

afterAll(async () => {
  await upstream?.close();
  await Promise.all(keys.map(disposeSigningKey));
  if (work) rmSync(work, { recursive: true, force: true });
});

let runCount = 0;
async function install(): Promise<RunResult & { prefix: string }> {
  const prefix = join(work, `prefix-${++runCount}`);
  const r = await runBash(installScript, {
    JUMPBOX_INSTALL_PREFIX: prefix,
    JUMPBOX_DOWNLOAD_BASE_URL: upstream.baseUrl,
    JUMPBOX_SKIP_APT: 'true',
  });
  return { ...r, prefix };
}

/** Serves `content` at `url` for the duration of `fn` (several files may be swapped together). */
async function withServed<T>(
  swaps: ReadonlyArray<readonly [string, Buffer | undefined]>,
  fn: () => Promise<T>,
): Promise<T> {
  const saved = swaps.map(([url]) => [url, upstream.files.get(url)] as const);
  for (const [url, content] of swaps) {
    if (content) upstream.files.set(url, content);
    else upstream.files.delete(url);
  }
  try {
    return await fn();
  } finally {
    for (const [url, content] of saved) if (content) upstream.files.set(url, content);
  }
}

function expectNothingInstalled(prefix: string): void {
  expect(existsSync(join(prefix, 'bin'))).toBe(false);
  expect(existsSync(join(prefix, 'share'))).toBe(false);
}

describe('generated install script in a sandbox', () => {
  it('installs every verified tool, records versions, and contacts exactly the egress list hosts', async () => {
    upstream.hosts.length = 0;
    const r = await install();
    expect(r.stderr).toContain('checksum file signature ok');
    expect(r.code).toBe(0);
    for (const tool of enabledDownloads(manifest)) {
      const bin = join(r.prefix, 'bin', tool.binary);
      expect(existsSync(bin)).toBe(true);
      const out = await runBash(bin, {});
      expect(out.stdout).toContain(`v${tool.version}`);
    }
    const record = readFileSync(join(r.prefix, 'share/jumpbox/tools.txt'), 'utf8');
    expect(record).toContain(`terraform=${TOOL_PINS.tools.terraform?.version}`);
    expect(record).not.toContain('osm=');

    const contacted = new Set(upstream.hosts);
    const allowed = new Set(downloadRules(manifest).map((rule) => rule.fqdn));
    expect([...contacted].sort()).toEqual([...allowed].sort());
    // The sandbox overrides only hashes and the key, so the default manifest's list is the same.
    expect(
      downloadRules(DEFAULT_TOOLS_MANIFEST)
        .map((x) => x.fqdn)
        .sort(),
    ).toEqual([...allowed].sort());
  });

  it('in-VM validation passes on the installed tools and names a tool whose version differs', async () => {
    const { prefix } = await install();
    const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, JUMPBOX_SKIP_APT: 'true' };
    const good = join(work, 'validate-good.sh');
    writeFileSync(good, validateScript(manifest));
    const ok = await runBash(good, env);
    expect(ok.stderr).toContain('all checks passed');
    expect(ok.code).toBe(0);

    const bad = join(work, 'validate-bad.sh');
    writeFileSync(
      bad,
      validateScript(
        resolveManifest({ ...overrides, kubectl: { version: `${TOOL_PINS.kubernetesMinor}.99` } }),
      ),
    );
    const ko = await runBash(bad, env);
    expect(ko.code).not.toBe(0);
    expect(ko.stderr).toContain(`FAIL kubectl: expected ${TOOL_PINS.kubernetesMinor}.99, found`);
    expect(ko.stderr).toContain(`ok helm ${TOOL_PINS.tools.helm?.version}`);
  });

  it('a tampered artifact (the last tool) stops the script before anything is installed', async () => {
    const tampered = zipOne('terraform', Buffer.from('#!/bin/sh\necho evil\n'));
    const r = await withServed([[artifactUrl('terraform'), tampered]], install);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/terraform \(checksum file\): sha256 mismatch/);
    expectNothingInstalled(r.prefix);
  });

  it('an artifact replaced together with its unsigned checksum file fails on the pinned hash', async () => {
    const evil = Buffer.from('evil helm tarball');
    const r = await withServed(
      [
        [artifactUrl('helm'), evil],
        [checksumUrl('helm'), Buffer.from(`${sha256(evil)}  ${artifactName('helm')}\n`)],
      ],
      install,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/helm \(pinned\): sha256 mismatch/);
    expectNothingInstalled(r.prefix);
  });

  it('a tampered checksum file stops the script before anything is installed', async () => {
    const original = upstream.files.get(checksumUrl('flux'))!.toString();
    const wrong = original.replace(
      new RegExp(`^[0-9a-f]{64}(?= {2}${escapeRe(artifactName('flux'))})`, 'm'),
      'f'.repeat(64),
    );
    expect(wrong).not.toBe(original);
    const r = await withServed([[checksumUrl('flux'), Buffer.from(wrong)]], install);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/flux \(checksum file\): sha256 mismatch/);
    expectNothingInstalled(r.prefix);
  });

  it('a checksum file altered to match a tampered artifact fails the signature check', async () => {
    const evil = zipOne('terraform', Buffer.from('#!/bin/sh\necho evil\n'));
    const sums = upstream.files
      .get(checksumUrl('terraform'))!
      .toString()
      .replace(new RegExp(`^[0-9a-f]{64}(?= {2}${escapeRe(artifactName('terraform'))})`, 'm'), sha256(evil));
    const script = installScript;
    const prefix = join(work, 'prefix-unpinned');
    const r = await withServed(
      [
        [artifactUrl('terraform'), evil],
        [checksumUrl('terraform'), Buffer.from(sums)],
      ],
      () =>
        runBash(script, {
          JUMPBOX_INSTALL_PREFIX: prefix,
          JUMPBOX_DOWNLOAD_BASE_URL: upstream.baseUrl,
          JUMPBOX_SKIP_APT: 'true',
        }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('terraform: bad signature on the checksum file');
    expectNothingInstalled(prefix);
  });

  it('a signing key with another fingerprint is refused', async () => {
    const other = await createSigningKey(join(work, 'other'));
    keys.push(other);
    const t = manifest.downloads.find((d) => d.id === 'terraform')!;
    const r = await withServed([[t.verify.signature!.keyUrl, Buffer.from(other.publicKeyArmored)]], install);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`terraform: signing key is not ${key.fingerprint}`);
    expectNothingInstalled(r.prefix);
  });

  it('a missing checksum file fails the download and installs nothing', async () => {
    const r = await withServed([[checksumUrl('kubelogin'), undefined]], install);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`download failed: ${checksumUrl('kubelogin')}`);
    expectNothingInstalled(r.prefix);
  });
});

describe('generated OS hardening script in a sandbox', () => {
  it('writes the sshd drop-in with the hardening settings', async () => {
    const dir = join(work, 'sshd');
    const script = join(work, 'harden.sh');
    writeFileSync(script, hardenOsScript(manifest));
    const r = await runBash(script, { JUMPBOX_SKIP_APT: 'true', JUMPBOX_SSHD_CONFIG_DIR: dir });
    expect(r.code).toBe(0);
    const conf = readFileSync(join(dir, '00-jumpbox-hardening.conf'), 'utf8');
    for (const line of ['X11Forwarding no', 'PasswordAuthentication no', 'PermitRootLogin no']) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(conf).toMatch(/^MaxAuthTries [1-4]$/m);
    expect(SSHD_HARDENING.length).toBeGreaterThanOrEqual(4);
  });
});
