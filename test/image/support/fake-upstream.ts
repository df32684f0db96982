/**
 * Fake upstreams for the sandbox test of the generated install script: builds artifacts (plain binary, tar.gz,
 * zip) whose binaries print their version, the checksum files in each upstream's format, and a signed checksum
 * file with a throwaway OpenPGP key. A local HTTP server serves them under `/<original host>/<path>` (the
 * script's JUMPBOX_DOWNLOAD_BASE_URL mapping), records every host asked for, and reproduces GitHub's redirect of
 * release downloads to the release-asset host.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type DownloadTool, expand, GITHUB_RELEASE_ASSET_HOST } from '../../../src/image/tools-manifest.js';

const run = promisify(execFile);

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A store-only (uncompressed) zip with one file. */
export function zipOne(name: string, data: Buffer): Buffer {
  const nameBuf = Buffer.from(name, 'utf8');
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBuf.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(0x031e, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBuf.length, 28);
  central.writeUInt32LE((0o100755 << 16) >>> 0, 38);
  const localPart = Buffer.concat([local, nameBuf, data]);
  const centralPart = Buffer.concat([central, nameBuf]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralPart.length, 12);
  end.writeUInt32LE(localPart.length, 16);
  return Buffer.concat([localPart, centralPart, end]);
}

/** The fake binary: a shell script that prints its tool id and version. */
export function fakeBinary(tool: DownloadTool, version = tool.version): Buffer {
  return Buffer.from(`#!/bin/sh\necho "fake ${tool.id} version v${version} (sandbox)"\n`);
}

export async function buildArtifact(tool: DownloadTool, workDir: string): Promise<Buffer> {
  const bin = fakeBinary(tool);
  const member = expand(tool.member, tool.version);
  if (tool.archive === 'none') return bin;
  if (tool.archive === 'zip') return zipOne(member, bin);
  const root = join(workDir, `tar-${tool.id}`);
  mkdirSync(dirname(join(root, member)), { recursive: true });
  writeFileSync(join(root, member), bin, { mode: 0o755 });
  const out = join(workDir, `${tool.id}.tar.gz`);
  await run('tar', ['-czf', out, '-C', root, member]);
  return readFileSync(out);
}

/** Checksum file in the shape each upstream publishes (bare hash for kubectl, "HASH  NAME" lists otherwise). */
export function checksumFile(tool: DownloadTool, artifactName: string, hash: string): string {
  if (tool.id === 'kubectl') return `${hash}\n`;
  const others = [`${sha256(`${tool.id}-darwin`)}  ${artifactName.replace('linux', 'darwin')}`];
  return `${[...others, `${hash}  ${artifactName}`].join('\n')}\n`;
}

export interface SigningKey {
  readonly home: string;
  readonly fingerprint: string;
  readonly publicKeyArmored: string;
}

export async function createSigningKey(workDir: string): Promise<SigningKey> {
  const home = join(workDir, 'gnupg-signer');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home };
  await run(
    'gpg',
    [
      '--batch',
      '--passphrase',
      '',
      '--quick-gen-key',
      'Sandbox Signer <signer@example.invalid>',
      'ed25519',
      'sign',
      'never',
    ],
    { env },
  );
  const { stdout } = await run('gpg', ['--batch', '--with-colons', '--list-keys'], { env });
  const fpr = stdout
    .split('\n')
    .find((l) => l.startsWith('fpr:'))
    ?.split(':')[9];
  if (!fpr) throw new Error('no fingerprint for the sandbox key');
  const exported = await run('gpg', ['--batch', '--armor', '--export', fpr], { env });
  return { home, fingerprint: fpr, publicKeyArmored: exported.stdout };
}

/** Stops the gpg-agent that key generation and signing started for this home. */
export async function disposeSigningKey(key: SigningKey): Promise<void> {
  await run('gpgconf', ['--homedir', key.home, '--kill', 'gpg-agent']).catch(() => undefined);
}

export async function signDetached(key: SigningKey, file: string): Promise<Buffer> {
  const out = `${file}.sig`;
  await run('gpg', ['--batch', '--yes', '--detach-sign', '--output', out, file], {
    env: { ...process.env, GNUPGHOME: key.home },
  });
  return readFileSync(out);
}

export interface FakeUpstream {
  readonly baseUrl: string;
  /** Content served for an original https:// URL. */
  readonly files: Map<string, Buffer>;
  /** Hosts requested (including redirect targets), in order. */
  readonly hosts: string[];
  close(): Promise<void>;
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const files = new Map<string, Buffer>();
  const hosts: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const [, host = '', ...rest] = path.split('/');
    hosts.push(host);
    let original = `https://${host}/${rest.join('/')}`;
    if (host === 'github.com' && rest.includes('releases') && rest.includes('download')) {
      res.writeHead(302, { location: `/${GITHUB_RELEASE_ASSET_HOST}/github.com/${rest.join('/')}` });
      res.end();
      return;
    }
    if (host === GITHUB_RELEASE_ASSET_HOST) original = `https://${rest.join('/')}`;
    const body = files.get(original);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    files,
    hosts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
