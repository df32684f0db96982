/**
 * A self-signed certificate for the local stand-ins (ARM emulator, Azurite over HTTPS), made at start-up
 * (or kept in a directory across restarts: `npm run local -- --state DIR`).
 * Clients trust it through the client factory's `caCert` option; nothing disables TLS verification.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { writeFileAtomic } from './write-atomic.js';

const CERT_FILE = 'local-ca.pem';
const KEY_FILE = 'local-key.pem';
/** A kept certificate is replaced when it expires within this margin (it is valid for 30 days). */
const RENEW_MARGIN_MS = 86_400_000;

export interface LocalCertificate {
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export async function createLocalCertificate(dir?: string): Promise<LocalCertificate> {
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 3600_000),
    notAfterDate: new Date(now.getTime() + 30 * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  if (dir) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'jumpbox-tls-'));
  const certPath = join(folder, CERT_FILE);
  const keyPath = join(folder, KEY_FILE);
  if (dir) {
    // A kept directory: each file whole or absent even if the process dies here.
    writeFileAtomic(keyPath, pems.private);
    writeFileAtomic(certPath, pems.cert, 0o644);
  } else {
    writeFileSync(certPath, pems.cert);
    writeFileSync(keyPath, pems.private, { mode: 0o600 });
  }
  return { cert: pems.cert, key: pems.private, certPath, keyPath };
}

/**
 * The certificate kept in `dir` when both files are there, parse, belong together and stay valid for more
 * than a day; otherwise a new one written there (same paths, so settings that name them stay right).
 */
export async function loadOrCreateLocalCertificate(
  dir: string,
  nowMs: number = Date.now(),
): Promise<LocalCertificate> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, CERT_FILE);
  const keyPath = join(dir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    try {
      const x509 = new X509Certificate(cert);
      if (x509.checkPrivateKey(createPrivateKey(key)) && Date.parse(x509.validTo) - nowMs > RENEW_MARGIN_MS) {
        return { cert, key, certPath, keyPath };
      }
    } catch {
      // unreadable: replaced below
    }
  }
  return createLocalCertificate(dir);
}
