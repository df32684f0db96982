/**
 * A definition adds a tool without a source change (`tools.<new id>` with `url`): it is downloaded, verified,
 * installed and version-checked like the built-in downloads, and every mistake names the field and the fix.
 */
import { describe, expect, it } from 'vitest';
import { installToolsScript, validateScript } from '../../src/image/customizer-scripts.js';
import { manifestOf, parseImageDefinition } from '../../src/image/definition.js';
import { downloadRules } from '../../src/image/egress.js';

const K9S = {
  url: 'https://github.com/derailed/k9s/releases/download/v{version}/k9s_Linux_amd64.tar.gz',
  version: '0.50.9',
  archive: 'tar.gz',
  member: 'k9s',
  binary: 'k9s',
  sha256: 'a'.repeat(64),
  sha256Source: 'k9s v0.50.9 checksums.sha256 (test value)',
  versionCommand: 'k9s version --short',
};

function problem(tools: Record<string, unknown>): string {
  try {
    parseImageDefinition({ name: 'jb1', tools });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the definition to be refused');
}

describe('adding a tool from the image definition', () => {
  it('is downloaded, verified against its pinned hash, installed and version-checked, and joins the egress list', () => {
    const manifest = manifestOf(parseImageDefinition({ name: 'jb1', tools: { k9s: K9S } }));
    const k9s = manifest.downloads.find((d) => d.id === 'k9s');
    expect(k9s).toMatchObject({
      version: '0.50.9',
      binary: 'k9s',
      verify: { pinned: { version: '0.50.9', sha256: K9S.sha256, source: K9S.sha256Source } },
    });
    const install = installToolsScript(manifest);
    expect(install).toContain(
      'https://github.com/derailed/k9s/releases/download/v0.50.9/k9s_Linux_amd64.tar.gz',
    );
    expect(install).toContain(K9S.sha256);
    expect(validateScript(manifest)).toContain('k9s version --short');
    expect(downloadRules(manifest).map((r) => r.fqdn)).toContain('github.com');
  });

  it.each([
    [{ ...K9S, url: 'http://example.com/k9s' }, '.tools.k9s.url: must be an https:// URL'],
    [{ ...K9S, version: 'v0.50.9' }, '.tools.k9s.version: must be a plain version "MAJOR.MINOR.PATCH"'],
    [{ ...K9S, sha256: 'ABC' }, '.tools.k9s.sha256: must be 64 lower-case hex characters (got "ABC")'],
    [{ ...K9S, binary: 'K9s' }, '.tools.k9s.binary: must be a plain command name'],
    [{ ...K9S, versionCommand: 'k9s version | sh' }, '.tools.k9s.versionCommand: must be a simple command'],
    [{ ...K9S, member: '../k9s' }, 'k9s.member: must not contain ".."'],
    [
      { ...K9S, colour: 'red' },
      '.tools.k9s.colour: is not a known field; remove it (fields here: displayName,',
    ],
    [
      { ...K9S, sha256: undefined },
      'k9s: an added tool must be verifiable: give sha256 (the published value, with sha256Source) or checksumUrl',
    ],
    [
      {
        ...K9S,
        signature: {
          url: 'https://example.com/SHA256SUMS.sig',
          keyUrl: 'https://example.com/key.asc',
          keyFingerprint: 'A'.repeat(40),
          source: 'example signing key page',
        },
      },
      'k9s.signature: a signature signs the checksum file: set checksumUrl too',
    ],
  ])('refuses %j naming the field and the fix', (entry, message) => {
    expect(problem({ k9s: entry })).toContain(message);
  });

  it('cannot redefine a built-in tool', () => {
    expect(problem({ helm: K9S })).toContain(
      'helm: a built-in tool cannot be redefined; override its version or sha256',
    );
  });
});
