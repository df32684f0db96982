/**
 * kubectl follows the clusters' Kubernetes minor. The Kubernetes version skew policy supports kubectl within
 * one minor version (older or newer) of kube-apiserver (kubernetes.io/releases/version-skew-policy, "kubectl").
 * The image pins kubectl to the configured minor itself (`kubernetesMinor` in tool-pins.json), so the image
 * stays usable against clusters one minor behind and one ahead.
 */

/** The supported distance, in minor versions, between kubectl and the cluster. */
export const KUBECTL_SUPPORTED_SKEW = 1;

const MINOR = /^(\d+)\.(\d+)$/;
const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

/** The problem with a kubectl version for a cluster minor ("1.37"), or undefined when it is supported. */
export function kubectlSkewProblem(kubectlVersion: string, kubernetesMinor: string): string | undefined {
  const m = MINOR.exec(kubernetesMinor);
  if (!m) return `kubernetesMinor "${kubernetesMinor}" must look like 1.37`;
  const v = VERSION.exec(kubectlVersion);
  if (!v) return `kubectl version "${kubectlVersion}" must look like 1.37.1`;
  if (v[1] !== m[1]) {
    return `kubectl ${kubectlVersion} is a different major than Kubernetes ${kubernetesMinor}`;
  }
  const distance = Number(v[2]) - Number(m[2]);
  if (Math.abs(distance) > KUBECTL_SUPPORTED_SKEW) {
    return `kubectl ${kubectlVersion} is ${Math.abs(distance)} minor versions ${distance < 0 ? 'older' : 'newer'} than Kubernetes ${kubernetesMinor}; kubectl is supported within ${KUBECTL_SUPPORTED_SKEW} minor version of the cluster (use a ${kubernetesMinor}.x kubectl)`;
  }
  return undefined;
}

/** The stable-marker file that names the newest patch of a minor (dl.k8s.io/release/stable-1.37.txt). */
export function stableMarkerUrl(kubernetesMinor: string): string {
  return `https://dl.k8s.io/release/stable-${kubernetesMinor}.txt`;
}
