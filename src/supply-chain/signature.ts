/**
 * Detached OpenPGP signature check with a pinned primary-key fingerprint — the same steps the install script
 * takes in the build VM (gpg reads the key, its primary fingerprint must be the pinned one, gpgv checks the
 * signature against a keyring holding only that key). Runs in a throwaway GNUPGHOME.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class SignatureError extends Error {
  override readonly name = 'SignatureError';
}

export async function verifyDetachedSignature(input: {
  readonly data: Buffer;
  readonly signature: Buffer;
  readonly publicKey: Buffer;
  /** 40 upper-case hex characters. */
  readonly fingerprint: string;
  /** What is being checked, for the error ("terraform 1.16.6 SHA256SUMS"). */
  readonly what: string;
}): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'jumpbox-gpg-'));
  const env = { ...process.env, GNUPGHOME: home };
  try {
    const key = join(home, 'key.asc');
    const data = join(home, 'data');
    const sig = join(home, 'data.sig');
    writeFileSync(key, input.publicKey);
    writeFileSync(data, input.data);
    writeFileSync(sig, input.signature);
    let listing: string;
    try {
      listing = (
        await run('gpg', ['--homedir', home, '--batch', '--with-colons', '--show-keys', key], { env })
      ).stdout;
    } catch {
      throw new SignatureError(`${input.what}: cannot read the signing key`);
    }
    const primaries: string[] = [];
    let wantFpr = false;
    for (const line of listing.split('\n')) {
      const f = line.split(':');
      if (f[0] === 'pub') wantFpr = true;
      else if (f[0] === 'fpr' && wantFpr) {
        primaries.push(f[9] ?? '');
        wantFpr = false;
      }
    }
    if (!primaries.includes(input.fingerprint)) {
      throw new SignatureError(
        `${input.what}: signing key is not ${input.fingerprint} (found: ${primaries.join(', ') || 'none'})`,
      );
    }
    await run('gpg', ['--homedir', home, '--batch', '--quiet', '--import', key], { env });
    const exported = await run('gpg', ['--homedir', home, '--batch', '--export', input.fingerprint], {
      env,
      encoding: 'buffer',
    });
    const keyring = join(home, 'pinned.gpg');
    writeFileSync(keyring, exported.stdout);
    try {
      await run('gpgv', ['--homedir', home, '--keyring', keyring, sig, data], { env });
    } catch {
      throw new SignatureError(`${input.what}: bad signature (key ${input.fingerprint})`);
    }
  } finally {
    await run('gpgconf', ['--homedir', home, '--kill', 'all'], { env }).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}
