/** The kubeconfig the lab writes for kubectl: one cluster, one context, a dummy bearer token. */

export const LAB_CONTEXT = 'execscope-lab';

export function kubeconfigYaml(server: string, caPem: string | null, namespace = 'default'): string {
  const cluster = caPem
    ? `    server: ${server}\n    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}\n`
    : `    server: ${server}\n`;
  return (
    `apiVersion: v1\nkind: Config\n` +
    `clusters:\n- name: ${LAB_CONTEXT}\n  cluster:\n${cluster}` +
    `contexts:\n- name: ${LAB_CONTEXT}\n  context:\n    cluster: ${LAB_CONTEXT}\n    user: lab-user\n    namespace: ${namespace}\n` +
    `current-context: ${LAB_CONTEXT}\n` +
    `users:\n- name: lab-user\n  user:\n    token: execscope-lab-token\n`
  );
}
