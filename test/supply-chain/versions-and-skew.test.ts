/**
 * Release-version order (open-ended input: property tests against a reference order) and the kubectl skew
 * rule: kubectl is supported within one minor version of kube-apiserver
 * (kubernetes.io/releases/version-skew-policy, "kubectl"); the image pins kubectl to the configured minor.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImageDefinition } from '../../src/image/definition.js';
import { DEFAULT_TOOLS_MANIFEST, resolveManifest, TOOL_PINS } from '../../src/image/tools-manifest.js';
import { kubectlSkewProblem } from '../../src/supply-chain/kubectl-skew.js';
import {
  compareReleaseVersions,
  debianUpstreamVersion,
  onTrack,
  parseReleaseVersion,
} from '../../src/supply-chain/release-version.js';

const num = fc.bigInt({ min: 0n, max: 10n ** 20n });
const preId = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), num.map(String));
const version = fc.record({
  major: num,
  minor: num,
  patch: num,
  pre: fc.array(preId, { maxLength: 3 }),
  v: fc.boolean(),
});
type V = { major: bigint; minor: bigint; patch: bigint; pre: string[]; v: boolean };
const text = (x: V) =>
  `${x.v ? 'v' : ''}${x.major}.${x.minor}.${x.patch}${x.pre.length ? `-${x.pre.join('.')}` : ''}`;

/** Reference precedence (semver 2.0.0 §11) on the generated parts. */
function reference(a: V, b: V): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  if (!a.pre.length || !b.pre.length) return a.pre.length === b.pre.length ? 0 : a.pre.length ? -1 : 1;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i] as string;
    const y = b.pre[i] as string;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn && BigInt(x) !== BigInt(y)) return BigInt(x) < BigInt(y) ? -1 : 1;
    if (xn !== yn) return xn ? -1 : 1;
    if (!xn && x !== y) return x < y ? -1 : 1;
  }
  return Math.sign(a.pre.length - b.pre.length);
}

describe('release version order', () => {
  it('property: agrees with the semver reference order, beyond Number precision', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        expect(Math.sign(compareReleaseVersions(text(a), text(b)))).toBe(reference(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it('property: antisymmetric, and sorting is consistent (transitive)', () => {
    fc.assert(
      fc.property(fc.array(version, { minLength: 2, maxLength: 8 }), (vs) => {
        const texts = vs.map(text);
        for (const a of texts)
          for (const b of texts) {
            expect(Math.sign(compareReleaseVersions(a, b))).toBe(
              -Math.sign(compareReleaseVersions(b, a)) || 0,
            );
          }
        const sorted = [...texts].sort(compareReleaseVersions);
        for (let i = 1; i < sorted.length; i++) {
          expect(compareReleaseVersions(sorted[i - 1] as string, sorted[i] as string)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });

  it('a release is newer than its pre-releases; 1.10 is newer than 1.9; prefixes and build data do not count', () => {
    expect(compareReleaseVersions('1.17.0', '1.17.0-rc1')).toBeGreaterThan(0);
    expect(compareReleaseVersions('3.10.0', '3.9.9')).toBeGreaterThan(0);
    expect(compareReleaseVersions('v1.37.1', '1.37.1+build.5')).toBe(0);
    expect(parseReleaseVersion('2.93')).toBeUndefined();
    expect(debianUpstreamVersion('2.93.0-1~noble')).toBe('2.93.0');
    expect(onTrack('3.22.1', '3')).toBe(true);
    expect(onTrack('4.0.0', '3')).toBe(false);
    expect(onTrack('1.37.4', '1.37')).toBe(true);
    expect(onTrack('1.3.4', '1.37')).toBe(false);
  });
});

describe('kubectl follows the configured Kubernetes minor', () => {
  it('the pinned kubectl is a release of the configured minor (the newest AKS-supported one)', () => {
    const kubectl = DEFAULT_TOOLS_MANIFEST.downloads.find((d) => d.id === 'kubectl')!;
    expect(onTrack(kubectl.version, TOOL_PINS.kubernetesMinor)).toBe(true);
    expect(kubectlSkewProblem(kubectl.version, TOOL_PINS.kubernetesMinor)).toBeUndefined();
  });

  it('within one minor either way is supported; two minors or another major is not', () => {
    expect(kubectlSkewProblem('1.36.4', '1.37')).toBeUndefined();
    expect(kubectlSkewProblem('1.38.0', '1.37')).toBeUndefined();
    expect(kubectlSkewProblem('1.35.9', '1.37')).toBe(
      'kubectl 1.35.9 is 2 minor versions older than Kubernetes 1.37; kubectl is supported within 1 minor version of the cluster (use a 1.37.x kubectl)',
    );
    expect(kubectlSkewProblem('1.39.0', '1.37')).toMatch(/2 minor versions newer/);
    expect(kubectlSkewProblem('2.37.0', '1.37')).toMatch(/different major/);
  });

  it('property: supported exactly when the minors differ by at most one', () => {
    fc.assert(
      fc.property(fc.nat(60), fc.nat(60), fc.nat(30), (cluster, client, patch) => {
        const ok = kubectlSkewProblem(`1.${client}.${patch}`, `1.${cluster}`) === undefined;
        expect(ok).toBe(Math.abs(cluster - client) <= 1);
      }),
    );
  });

  it('a definition overriding kubectl is held to the skew; kubernetesMinor moves it to other clusters', () => {
    const minor = TOOL_PINS.kubernetesMinor;
    const [, m] = minor.split('.');
    const twoBack = `1.${Number(m) - 2}`;
    expect(() => resolveManifest({ kubectl: { version: `${twoBack}.3` } })).toThrow(
      `kubectl.version: kubectl ${twoBack}.3 is 2 minor versions older than Kubernetes ${minor}`,
    );
    const other = resolveManifest({ kubectl: { version: `${twoBack}.3`, kubernetesMinor: twoBack } });
    expect(other.downloads.find((d) => d.id === 'kubectl')?.version).toBe(`${twoBack}.3`);
    expect(() => resolveManifest({ kubectl: { kubernetesMinor: twoBack } })).toThrow(
      `kubectl.version: kubernetesMinor ${twoBack} is set, so pin a ${twoBack}.x kubectl too`,
    );
    expect(() => parseImageDefinition({ name: 'jb', tools: { helm: { kubernetesMinor: minor } } })).toThrow(
      "helm.kubernetesMinor: only kubectl follows the clusters' Kubernetes minor; remove it",
    );
  });
});
