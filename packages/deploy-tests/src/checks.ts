/**
 * Consistency checks of rendered manifests and of the compose file that a
 * schema cannot express: ports and probes against the services' configuration,
 * selectors against pod labels, the objects every service needs, the
 * end-of-day CronJob, secrets by reference only. Each check returns the list
 * of problems found (empty when all is well), so the tests and the CLI share them.
 */
import { spiffeId } from "@whiteslip/identity/names";

/** The five platform services, as named in services/ and in the manifests. */
export const SERVICES = ["credit", "billing", "notification", "collections", "credit-reporting"] as const;

/** The Secret of one service alone: its own database user and Kafka principal (never a shared one). */
export function serviceSecretName(service: string): string {
  return `whiteslip-${service}`;
}
/** Keys of a service's own Secret. */
export const SERVICE_SECRET_KEYS = ["MONGODB_URI", "KAFKA_SASL_PASSWORD"] as const;
/** The Secret of the personal-data keys (mounted, never in the environment), its keys and where it is mounted. */
export const PII_SECRET_NAME = "whiteslip-pii-keys";
export const PII_SECRET_KEYS = ["encryption.json", "index.json"] as const;

/** The Secret cert-manager keeps an identity's certificate in (ca.crt, tls.crt, tls.key). */
export function tlsSecretName(identity: string): string {
  return `whiteslip-tls-${identity}`;
}
/** Workloads that are clients only, and the identity each calls as (billing's policy lets `eod` run end-of-day). */
export const CLIENT_WORKLOADS = { "billing-end-of-day": "eod" } as const;
/** The files of TLS_CA_FILE / TLS_CERT_FILE / TLS_KEY_FILE, as cert-manager names them in its Secret. */
const TLS_FILES = { TLS_CA_FILE: "ca.crt", TLS_CERT_FILE: "tls.crt", TLS_KEY_FILE: "tls.key" } as const;

type Labels = Record<string, string>;

/** A Kubernetes object as rendered (only the fields the checks read are typed). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Labels };
  spec?: unknown;
  data?: Record<string, string>;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}
/**
 * The grpc.health.v1 service each probe must ask (packages/grpc LIVENESS / READINESS): liveness and
 * startup follow the process only, readiness its dependencies; asking "" for liveness would restart
 * every pod during a database outage.
 */
const PROBE_HEALTH_SERVICE = { livenessProbe: "liveness", startupProbe: "liveness", readinessProbe: "readiness" } as const;

interface Probe {
  grpc?: { port: number; service?: string };
  httpGet?: unknown;
  tcpSocket?: unknown;
  exec?: unknown;
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Labels; limits?: Labels };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    runAsNonRoot?: boolean;
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  restartPolicy?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes?: { name: string; emptyDir?: unknown; secret?: { secretName: string; defaultMode?: number } }[];
  topologySpreadConstraints?: { topologyKey: string; labelSelector?: LabelSelector }[];
}
interface PodTemplate {
  metadata?: { labels?: Labels; annotations?: Labels };
  spec: PodSpec;
}
interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
/** The fields of a Deployment spec the checks read. */
export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplate;
}
interface ServiceSpec {
  type?: string;
  selector?: Labels;
  ports: { name?: string; port: number; targetPort?: number | string }[];
}
interface HpaSpec {
  scaleTargetRef: { apiVersion?: string; kind: string; name: string };
  minReplicas?: number;
  maxReplicas: number;
  metrics?: {
    type: string;
    resource?: { name: string; target: { type: string; averageUtilization?: number } };
  }[];
}
interface PdbSpec {
  selector?: LabelSelector;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
}
interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}
interface NetworkPolicyRule {
  from?: NetworkPolicyPeer[];
  to?: NetworkPolicyPeer[];
  ports?: { port?: number | string; protocol?: string }[];
}
interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: NetworkPolicyRule[];
  egress?: NetworkPolicyRule[];
}
interface CronJobSpec {
  schedule: string;
  timeZone?: string;
  concurrencyPolicy?: string;
  jobTemplate: { spec: { template: PodTemplate; completionMode?: string; completions?: number; parallelism?: number } };
}

/** Whether a label selector selects a set of labels. */
export function selects(selector: LabelSelector | undefined, labels: Labels | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  const ml = Object.entries(selector.matchLabels ?? {});
  const me = selector.matchExpressions ?? [];
  if (ml.length === 0 && me.length === 0) return true;
  return (
    ml.every(([k, v]) => l[k] === v) &&
    me.every((e) => {
      const has = Object.hasOwn(l, e.key);
      const v = l[e.key];
      switch (e.operator) {
        case "In":
          return has && (e.values ?? []).includes(v as string);
        case "NotIn":
          return !has || !(e.values ?? []).includes(v as string);
        case "Exists":
          return has;
        case "DoesNotExist":
          return !has;
        default:
          return false;
      }
    })
  );
}

/** The rendered objects of one kind, by name. */
export function byKind<S>(objects: Manifest[], kind: string): Map<string, Manifest & { spec: S }> {
  const m = new Map<string, Manifest & { spec: S }>();
  for (const o of objects) if (o.kind === kind) m.set(o.metadata.name, o as Manifest & { spec: S });
  return m;
}

/** The platform ConfigMap (its name carries kustomize's content hash). */
export function platformConfig(objects: Manifest[]): Manifest | undefined {
  return objects.find(
    (o) => o.kind === "ConfigMap" && /^whiteslip-config(-[a-z0-9]+)?$/.test(o.metadata.name),
  );
}

function configPort(cm: Manifest | undefined, key: string, problems: string[]): number {
  const raw = cm?.data?.[key];
  const n = Number(raw);
  if (!raw || !Number.isInteger(n) || n <= 0 || n > 65535) {
    problems.push(`ConfigMap whiteslip-config: ${key} must be a port number (got ${JSON.stringify(raw)})`);
    return Number.NaN;
  }
  return n;
}

function resolvePort(c: Container, port: number | string | undefined): number | undefined {
  if (typeof port === "number") return port;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

function checkSecurity(where: string, pod: PodSpec, c: Container, problems: string[]): void {
  if (pod.securityContext?.runAsNonRoot !== true && c.securityContext?.runAsNonRoot !== true)
    problems.push(`${where}: runAsNonRoot must be true`);
  if (pod.securityContext?.runAsUser === 0) problems.push(`${where}: runAsUser must not be 0`);
  if (c.securityContext?.readOnlyRootFilesystem !== true)
    problems.push(`${where}: readOnlyRootFilesystem must be true`);
  if (c.securityContext?.allowPrivilegeEscalation !== false)
    problems.push(`${where}: allowPrivilegeEscalation must be false`);
  // tsx keeps its transform cache in /tmp: it must be writable on a read-only root.
  const tmp = c.volumeMounts?.find((m) => m.mountPath === "/tmp");
  if (!tmp || !pod.volumes?.some((v) => v.name === tmp.name && v.emptyDir !== undefined))
    problems.push(`${where}: /tmp must be an emptyDir (read-only root filesystem)`);
  for (const kind of ["requests", "limits"] as const)
    for (const r of ["cpu", "memory"])
      if (!c.resources?.[kind]?.[r]) problems.push(`${where}: resources.${kind}.${r} missing`);
}

/** The personal-data keys: the Secret whiteslip-pii-keys mounted read-only where PII_KEYRING_PATH points. */
function checkPiiKeys(where: string, pod: PodSpec, c: Container, problems: string[]): void {
  const vol = pod.volumes?.find((v) => v.secret?.secretName === PII_SECRET_NAME);
  const mount = vol && c.volumeMounts?.find((m) => m.name === vol.name);
  if (!vol || !mount) problems.push(`${where}: Secret ${PII_SECRET_NAME} must be mounted (personal-data keys)`);
  else {
    if (mount.readOnly !== true) problems.push(`${where}: the ${PII_SECRET_NAME} mount must be readOnly`);
    if (c.env?.find((e) => e.name === "PII_KEYRING_PATH")?.value !== mount.mountPath)
      problems.push(`${where}: PII_KEYRING_PATH must be the ${PII_SECRET_NAME} mount (${mount.mountPath})`);
  }
  if (c.env?.some((e) => e.name === "PII_KEYRING" || e.name === "PII_KEY"))
    problems.push(`${where}: personal-data keys come from the mounted Secret, not the environment`);
}

function checkEnvRefs(where: string, c: Container, cm: Manifest | undefined, problems: string[], service: string): void {
  for (const f of c.envFrom ?? []) {
    if (f.configMapRef && f.configMapRef.name !== cm?.metadata.name)
      problems.push(`${where}: envFrom ConfigMap ${f.configMapRef.name} is not rendered`);
    if (f.secretRef) problems.push(`${where}: envFrom a whole Secret; reference keys one by one`);
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) continue;
    if (ref.name !== serviceSecretName(service))
      problems.push(`${where}: env ${e.name} reads Secret ${ref.name}, not its own ${serviceSecretName(service)}`);
    if (!(SERVICE_SECRET_KEYS as readonly string[]).includes(ref.key))
      problems.push(`${where}: env ${e.name} reads unknown Secret key ${ref.key}`);
  }
}

/**
 * The identity's Secret (cert-manager's whiteslip-tls-<identity>) mounted read-only in the folder that
 * TLS_CA_FILE, TLS_CERT_FILE and TLS_KEY_FILE of the ConfigMap name, with cert-manager's file names.
 */
function checkTlsMount(
  where: string,
  pod: PodSpec,
  c: Container,
  cm: Manifest | undefined,
  identity: string,
  problems: string[],
): void {
  const dirs = new Set<string>();
  for (const [key, file] of Object.entries(TLS_FILES)) {
    const path = cm?.data?.[key] ?? "";
    if (!path.endsWith(`/${file}`)) problems.push(`ConfigMap whiteslip-config: ${key} must name ${file} of the mounted Secret`);
    dirs.add(path.slice(0, path.lastIndexOf("/")));
  }
  const vol = pod.volumes?.find((v) => v.secret?.secretName === tlsSecretName(identity));
  const mount = vol && c.volumeMounts?.find((m) => m.name === vol.name);
  if (!vol || !mount) {
    problems.push(`${where}: Secret ${tlsSecretName(identity)} must be mounted (its identity ${identity})`);
    return;
  }
  if (mount.readOnly !== true) problems.push(`${where}: the ${tlsSecretName(identity)} mount must be readOnly`);
  if (dirs.size !== 1 || !dirs.has(mount.mountPath))
    problems.push(`${where}: TLS_*_FILE are not in the ${tlsSecretName(identity)} mount (${mount.mountPath})`);
  for (const other of pod.volumes ?? [])
    if (other.secret?.secretName.startsWith("whiteslip-tls-") && other.secret.secretName !== tlsSecretName(identity))
      problems.push(`${where}: mounts ${other.secret.secretName}, another identity's certificate`);
}

interface CertificateSpec {
  secretName: string;
  isCA?: boolean;
  uris?: string[];
  dnsNames?: string[];
  usages?: string[];
  duration?: string;
  renewBefore?: string;
  privateKey?: { algorithm?: string; rotationPolicy?: string };
  issuerRef: { name: string; kind?: string; group?: string };
}
interface IssuerSpec {
  ca?: { secretName: string };
  selfSigned?: object;
}

/**
 * cert-manager issues every identity: per service and per client workload a Certificate into its Secret, with
 * exactly its SPIFFE ID as URI SAN, the usages it needs (services also serve: server auth and their DNS name),
 * an ECDSA key re-generated on each renewal, a lifetime and a renewal window, from an Issuer that is rendered and
 * whose CA is itself issued by a rendered Issuer.
 */
export function checkIdentities(objects: Manifest[]): string[] {
  const problems: string[] = [];
  const certs = [...byKind<CertificateSpec>(objects, "Certificate").values()];
  const issuers = byKind<IssuerSpec>(objects, "Issuer");
  const identities = [
    ...SERVICES.map((s) => ({ identity: s, serves: true })),
    ...Object.values(CLIENT_WORKLOADS).map((s) => ({ identity: s, serves: false })),
  ];
  for (const { identity, serves } of identities) {
    const secret = tlsSecretName(identity);
    const issued = certs.filter((x) => x.spec.secretName === secret);
    if (issued.length !== 1) {
      problems.push(`${identity}: ${issued.length} Certificates write Secret ${secret}, expected 1`);
      continue;
    }
    const cert = issued[0]!;
    const where = `Certificate ${cert.metadata.name}`;
    const uri = spiffeId(identity);
    if (JSON.stringify(cert.spec.uris ?? []) !== JSON.stringify([uri])) problems.push(`${where}: uris must be exactly [${uri}]`);
    if (cert.spec.isCA) problems.push(`${where}: an identity is not a CA`);
    const usages = cert.spec.usages ?? [];
    for (const u of serves ? ["client auth", "server auth"] : ["client auth"])
      if (!usages.includes(u)) problems.push(`${where}: usages lack "${u}"`);
    if (!serves && usages.includes("server auth")) problems.push(`${where}: a client-only identity must not serve`);
    if (serves && !(cert.spec.dnsNames ?? []).includes(identity))
      problems.push(`${where}: dnsNames lack ${identity} (clients dial ${identity}:<GRPC_PORT>)`);
    if (cert.spec.privateKey?.algorithm !== "ECDSA") problems.push(`${where}: privateKey.algorithm must be ECDSA`);
    if (cert.spec.privateKey?.rotationPolicy !== "Always")
      problems.push(`${where}: privateKey.rotationPolicy must be Always (a new key at every renewal)`);
    if (!cert.spec.duration || !cert.spec.renewBefore) problems.push(`${where}: needs duration and renewBefore`);
    problems.push(...checkIssuerChain(where, cert.spec.issuerRef, issuers, certs));
  }
  return problems;
}

function checkIssuerChain(
  where: string,
  ref: CertificateSpec["issuerRef"],
  issuers: Map<string, Manifest & { spec: IssuerSpec }>,
  certs: (Manifest & { spec: CertificateSpec })[],
): string[] {
  if ((ref.kind ?? "Issuer") !== "Issuer" || (ref.group ?? "cert-manager.io") !== "cert-manager.io")
    return [`${where}: issuerRef must be a cert-manager Issuer of the namespace`];
  const issuer = issuers.get(ref.name);
  if (!issuer) return [`${where}: Issuer ${ref.name} is not rendered`];
  if (issuer.spec.selfSigned) return [`${where}: issued by the self-signed Issuer ${ref.name}, not by the platform CA`];
  const caSecret = issuer.spec.ca?.secretName;
  if (!caSecret) return [];
  const ca = certs.find((x) => x.spec.secretName === caSecret);
  if (!ca) return [`${where}: the CA Secret ${caSecret} of Issuer ${ref.name} is issued by no Certificate`];
  if (!ca.spec.isCA) return [`${where}: Certificate ${ca.metadata.name} (the CA of ${ref.name}) is not a CA`];
  if (!issuers.has(ca.spec.issuerRef.name)) return [`${where}: the CA's Issuer ${ca.spec.issuerRef.name} is not rendered`];
  return [];
}

/**
 * Checks the whole rendered platform: one ConfigMap with the ports and
 * addresses, and for every service a Deployment (ports = GRPC_PORT/METRICS_PORT/
 * GRPC_HEALTH_PORT, readiness/liveness/startup gRPC probes on GRPC_HEALTH_PORT,
 * secrets by reference, its identity's certificate mounted, hardened security
 * context, requests and limits), a ClusterIP Service, a CPU HPA, a PDB and a
 * NetworkPolicy that all select its pods; the identities (checkIdentities), no
 * plaintext gRPC; plus labels, namespace and no rendered Secret. `knownEnv` lists the variable names the
 * programs read; `namespace`, when given, must be on every namespaced object.
 */
export function checkPlatform(
  objects: Manifest[],
  opts: { knownEnv: Set<string>; namespace?: string },
): string[] {
  const problems: string[] = [];
  const cm = platformConfig(objects);
  if (!cm) problems.push("no ConfigMap whiteslip-config");
  const grpcPort = configPort(cm, "GRPC_PORT", problems);
  const metricsPort = configPort(cm, "METRICS_PORT", problems);
  // the kubelet has no client certificate: its probes ask the plaintext health-only listener
  const healthPort = configPort(cm, "GRPC_HEALTH_PORT", problems);
  if (healthPort === grpcPort) problems.push("ConfigMap whiteslip-config: GRPC_HEALTH_PORT must differ from GRPC_PORT");
  for (const key of Object.keys(cm?.data ?? {}))
    if (!opts.knownEnv.has(key)) problems.push(`ConfigMap whiteslip-config: ${key} is read by no program`);
  const services = byKind<ServiceSpec>(objects, "Service");
  for (const key of Object.keys(cm?.data ?? {}).filter((k) => k.endsWith("_ADDR"))) {
    const [host, port] = (cm?.data?.[key] ?? "").split(":");
    if (!host || !services.has(host) || Number(port) !== grpcPort)
      problems.push(
        `ConfigMap whiteslip-config: ${key}=${cm?.data?.[key]} is not <a rendered Service>:${grpcPort}`,
      );
  }
  for (const svc of SERVICES) {
    const addr = `${svc.toUpperCase().replace(/-/g, "_")}_ADDR`;
    if (cm && !cm.data?.[addr]) problems.push(`ConfigMap whiteslip-config: ${addr} missing`);
  }

  const deployments = byKind<DeploymentSpec>(objects, "Deployment");
  const hpas = byKind<HpaSpec>(objects, "HorizontalPodAutoscaler");
  const pdbs = byKind<PdbSpec>(objects, "PodDisruptionBudget");
  const policies = byKind<NetworkPolicySpec>(objects, "NetworkPolicy");

  for (const svc of SERVICES) {
    const d = deployments.get(svc);
    if (!d) {
      problems.push(`${svc}: no Deployment`);
      continue;
    }
    const where = `Deployment ${svc}`;
    const podLabels = d.spec.template.metadata?.labels ?? {};
    if (!selects(d.spec.selector, podLabels))
      problems.push(`${where}: selector does not select its pod template`);
    if (podLabels["app.kubernetes.io/name"] !== svc)
      problems.push(`${where}: pods lack app.kubernetes.io/name=${svc}`);
    if (podLabels["app.kubernetes.io/part-of"] !== "whiteslip")
      problems.push(`${where}: pods lack app.kubernetes.io/part-of=whiteslip`);
    for (const [name, other] of deployments)
      if (name !== svc && selects(d.spec.selector, other.spec.template.metadata?.labels))
        problems.push(`${where}: selector also selects the pods of ${name}`);
    const pod = d.spec.template.spec;
    if (pod.terminationGracePeriodSeconds !== 30)
      problems.push(`${where}: terminationGracePeriodSeconds must be 30`);
    const c = pod.containers[0];
    if (!c || pod.containers.length !== 1) {
      problems.push(`${where}: expected exactly one container`);
      continue;
    }
    if (c.env?.find((e) => e.name === "SERVICE")?.value !== svc)
      problems.push(`${where}: env SERVICE must be ${svc}`);
    const grpc = c.ports?.find((p) => p.name === "grpc");
    const metrics = c.ports?.find((p) => p.name === "metrics");
    if (grpc?.containerPort !== grpcPort)
      problems.push(`${where}: port grpc is ${grpc?.containerPort}, GRPC_PORT is ${grpcPort}`);
    if (metrics?.containerPort !== metricsPort)
      problems.push(`${where}: port metrics is ${metrics?.containerPort}, METRICS_PORT is ${metricsPort}`);
    const health = c.ports?.find((p) => p.name === "health");
    if (health?.containerPort !== healthPort)
      problems.push(`${where}: port health is ${health?.containerPort}, GRPC_HEALTH_PORT is ${healthPort}`);
    const scrapePort = d.spec.template.metadata?.annotations?.["prometheus.io/port"];
    if (scrapePort !== undefined && Number(scrapePort) !== metricsPort)
      problems.push(`${where}: prometheus.io/port ${scrapePort} is not METRICS_PORT ${metricsPort}`);
    for (const kind of ["readinessProbe", "livenessProbe", "startupProbe"] as const) {
      const p = c[kind];
      if (!p) problems.push(`${where}: no ${kind}`);
      else if (!p.grpc) problems.push(`${where}: ${kind} is not a gRPC probe`);
      else {
        if (p.grpc.port !== healthPort)
          problems.push(`${where}: ${kind} targets port ${p.grpc.port}, not GRPC_HEALTH_PORT ${healthPort}`);
        const want = PROBE_HEALTH_SERVICE[kind];
        if (p.grpc.service !== want)
          problems.push(`${where}: ${kind} asks health of "${p.grpc.service ?? ""}", not "${want}"`);
      }
    }
    // One database user and one Kafka principal per service: its own Secret, never a shared one.
    for (const key of SERVICE_SECRET_KEYS) {
      const ref = c.env?.find((e) => e.name === key)?.valueFrom?.secretKeyRef;
      if (ref?.key !== key || ref.name !== serviceSecretName(svc))
        problems.push(`${where}: ${key} must come from Secret ${serviceSecretName(svc)}`);
    }
    if (c.env?.find((e) => e.name === "KAFKA_SASL_USERNAME")?.value !== svc)
      problems.push(`${where}: KAFKA_SASL_USERNAME must be ${svc} (its own Kafka principal)`);
    checkEnvRefs(where, c, cm, problems, svc);
    checkPiiKeys(where, pod, c, problems);
    checkTlsMount(where, pod, c, cm, svc, problems);
    if (!c.envFrom?.some((f) => f.configMapRef)) problems.push(`${where}: does not read the ConfigMap`);
    checkSecurity(where, pod, c, problems);

    const s = services.get(svc);
    if (!s) problems.push(`${svc}: no Service`);
    else {
      if ((s.spec.type ?? "ClusterIP") !== "ClusterIP")
        problems.push(`Service ${svc}: type must be ClusterIP`);
      const selected = [...deployments].filter(([, o]) =>
        selects({ matchLabels: s.spec.selector ?? {} }, o.spec.template.metadata?.labels),
      );
      if (selected.length !== 1 || selected[0]?.[0] !== svc)
        problems.push(
          `Service ${svc}: selects ${selected.map(([n]) => n).join(",") || "nothing"}, not ${svc}`,
        );
      for (const [name, want] of [
        ["grpc", grpcPort],
        ["metrics", metricsPort],
      ] as const) {
        const sp = s.spec.ports.find((p) => p.name === name);
        if (!sp) problems.push(`Service ${svc}: no port ${name}`);
        else if (sp.port !== want || resolvePort(c, sp.targetPort ?? sp.port) !== want)
          problems.push(
            `Service ${svc}: port ${name} ${sp.port}→${sp.targetPort} does not reach container port ${want}`,
          );
      }
    }

    const h = hpas.get(svc);
    if (!h) problems.push(`${svc}: no HorizontalPodAutoscaler`);
    else {
      const t = h.spec.scaleTargetRef;
      if (t.kind !== "Deployment" || t.name !== svc || t.apiVersion !== "apps/v1")
        problems.push(`HorizontalPodAutoscaler ${svc}: scales ${t.kind}/${t.name}, not Deployment/${svc}`);
      const cpu = h.spec.metrics?.find((m) => m.type === "Resource" && m.resource?.name === "cpu");
      if (cpu?.resource?.target.type !== "Utilization" || cpu.resource.target.averageUtilization !== 70)
        problems.push(`HorizontalPodAutoscaler ${svc}: needs a CPU utilization target of 70%`);
      if ((h.spec.minReplicas ?? 1) > h.spec.maxReplicas)
        problems.push(`HorizontalPodAutoscaler ${svc}: min > max`);
    }

    const b = pdbs.get(svc);
    if (!b) problems.push(`${svc}: no PodDisruptionBudget`);
    else {
      if (!selects(b.spec.selector, podLabels))
        problems.push(`PodDisruptionBudget ${svc}: does not select the pods`);
      const replicas = Math.max(d.spec.replicas ?? 1, h?.spec.minReplicas ?? 1);
      if (typeof b.spec.minAvailable === "number" && b.spec.minAvailable >= replicas)
        problems.push(
          `PodDisruptionBudget ${svc}: minAvailable ${b.spec.minAvailable} with ${replicas} replicas blocks every eviction`,
        );
      if (b.spec.minAvailable === undefined && b.spec.maxUnavailable === undefined)
        problems.push(`PodDisruptionBudget ${svc}: needs minAvailable or maxUnavailable`);
    }

    const np = policies.get(svc);
    if (!np) problems.push(`${svc}: no NetworkPolicy`);
    else problems.push(...checkNetworkPolicy(np, c, podLabels, cm, grpcPort, metricsPort));
  }

  problems.push(...checkIdentities(objects));
  if (cm?.data?.NODE_ENV !== "production") problems.push("ConfigMap whiteslip-config: NODE_ENV must be production");
  if (objects.some((o) => JSON.stringify(o).includes("GRPC_PLAINTEXT_DEV")))
    problems.push("GRPC_PLAINTEXT_DEV is set: plaintext gRPC is for development only (production refuses it)");
  if (objects.some((o) => o.kind === "Secret"))
    problems.push("a Secret is rendered: secrets are referenced, never committed");
  for (const o of objects)
    if (o.metadata.labels?.["app.kubernetes.io/part-of"] !== "whiteslip")
      problems.push(`${o.kind} ${o.metadata.name}: lacks label app.kubernetes.io/part-of=whiteslip`);
  if (opts.namespace !== undefined) {
    const ns = objects.find((o) => o.kind === "Namespace");
    if (ns?.metadata.name !== opts.namespace) problems.push(`no Namespace ${opts.namespace}`);
    for (const o of objects)
      if (o.kind !== "Namespace" && o.metadata.namespace !== opts.namespace)
        problems.push(
          `${o.kind} ${o.metadata.name}: namespace ${o.metadata.namespace}, not ${opts.namespace}`,
        );
  }
  const images = new Set(
    [...deployments.values()].flatMap((d) => d.spec.template.spec.containers.map((c) => c.image ?? "")),
  );
  for (const cj of byKind<CronJobSpec>(objects, "CronJob").values())
    for (const c of cj.spec.jobTemplate.spec.template.spec.containers) images.add(c.image ?? "");
  if (images.size !== 1)
    problems.push(`expected one image for every workload, got ${[...images].join(", ")}`);
  for (const image of images) {
    const tag = /:([\w][\w.-]{0,127})$/.exec(image.slice(image.lastIndexOf("/") + 1))?.[1];
    if (!tag || tag === "latest") problems.push(`image ${image || "(none)"} must carry a fixed tag`);
  }
  return problems;
}

function checkNetworkPolicy(
  np: Manifest & { spec: NetworkPolicySpec },
  c: Container,
  podLabels: Labels,
  cm: Manifest | undefined,
  grpcPort: number,
  metricsPort: number,
): string[] {
  const problems: string[] = [];
  const where = `NetworkPolicy ${np.metadata.name}`;
  if (!selects(np.spec.podSelector, podLabels)) problems.push(`${where}: does not select the service's pods`);
  for (const t of ["Ingress", "Egress"])
    if (!np.spec.policyTypes?.includes(t)) problems.push(`${where}: policyTypes lacks ${t}`);
  const ingressPorts = (np.spec.ingress ?? []).flatMap((r) =>
    (r.ports ?? []).map((p) => ({ rule: r, port: resolvePort(c, p.port) })),
  );
  for (const { port } of ingressPorts)
    if (port !== grpcPort && port !== metricsPort)
      problems.push(`${where}: ingress opens port ${port}, neither grpc nor metrics`);
  if ((np.spec.ingress ?? []).some((r) => !r.ports))
    problems.push(`${where}: an ingress rule opens every port`);
  const grpcFromPlatform = ingressPorts.some(
    (p) =>
      p.port === grpcPort &&
      (p.rule.from ?? []).some(
        (f) => f.podSelector?.matchLabels?.["app.kubernetes.io/part-of"] === "whiteslip",
      ),
  );
  if (!grpcFromPlatform) problems.push(`${where}: gRPC not open to Whiteslip pods`);
  const metricsFromMonitoring = ingressPorts.some(
    (p) =>
      p.port === metricsPort &&
      (p.rule.from ?? []).some(
        (f) => f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "monitoring",
      ),
  );
  if (!metricsFromMonitoring) problems.push(`${where}: metrics not open to the monitoring namespace`);
  const egressPorts = new Set(
    (np.spec.egress ?? []).flatMap((r) => (r.ports ?? []).map((p) => `${p.port}/${p.protocol ?? "TCP"}`)),
  );
  const kafkaPorts = (cm?.data?.KAFKA_BROKERS ?? "").split(",").map((b) => b.trim().split(":")[1]);
  const needed = [`53/UDP`, `${grpcPort}/TCP`, "27017/TCP", ...kafkaPorts.map((p) => `${p}/TCP`)];
  for (const n of needed) if (!egressPorts.has(n)) problems.push(`${where}: egress to port ${n} not allowed`);
  return problems;
}

/** The ops CLI's source; the image's build compiles it to packages/ops/dist/cli.js, which `ops …` runs. */
const OPS_CLI_SOURCE = "packages/ops/src/cli.ts";

/**
 * Checks billing's end-of-day CronJob: daily 00:05 Asia/Shanghai, no overlap,
 * running `eod` of the ops CLI (compiled, or its source through tsx; which must
 * exist: `opsCliExists`), as an Indexed Job with completions = parallelism =
 * EOD_SHARD_COUNT when sharded, with the platform ConfigMap (for BILLING_ADDR),
 * hardened like the services.
 */

export function checkEndOfDayCronJob(objects: Manifest[], opsCliExists: (path: string) => boolean): string[] {
  const problems: string[] = [];
  const cj = byKind<CronJobSpec>(objects, "CronJob").get("billing-end-of-day");
  if (!cj) return ["no CronJob billing-end-of-day"];
  const where = "CronJob billing-end-of-day";
  if (cj.spec.schedule !== "5 0 * * *")
    problems.push(`${where}: schedule ${cj.spec.schedule}, not daily 00:05`);
  if (cj.spec.timeZone !== "Asia/Shanghai") problems.push(`${where}: timeZone must be Asia/Shanghai`);
  if (cj.spec.concurrencyPolicy !== "Forbid") problems.push(`${where}: concurrencyPolicy must be Forbid`);
  const pod = cj.spec.jobTemplate.spec.template.spec;
  const c = pod.containers[0];
  if (!c) return [...problems, `${where}: no container`];
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  // The compiled ops CLI (docs/build.md): `ops eod` through the image's entrypoint (which runs
  // packages/ops/dist/cli.js), or `node packages/ops/dist/cli.js eod`; a bundle is built from
  // packages/ops/src/cli.ts in the image, so that source must exist. Or the TypeScript entry through tsx.
  const bundle = argv.find((a) => a.endsWith("/dist/cli.js"));
  const script = argv.find((a) => a.endsWith(".ts"));
  let command: string | undefined;
  if (!c.command && argv[0] === "ops") {
    if (!opsCliExists(OPS_CLI_SOURCE)) problems.push(`${where}: ${OPS_CLI_SOURCE} (the compiled CLI's source) does not exist in the repository`);
    command = argv[1];
  } else if (argv[0] === "node" && bundle && !argv.includes("tsx")) {
    const source = bundle.replace(/dist\/cli\.js$/, "src/cli.ts");
    if (!opsCliExists(source)) problems.push(`${where}: ${bundle} is not built from a source in the repository (${source} missing)`);
    command = argv[argv.indexOf(bundle) + 1];
  } else if (argv[0] === "node" && argv.includes("tsx") && script) {
    if (!opsCliExists(script)) problems.push(`${where}: ${script} does not exist in the repository`);
    command = argv[argv.indexOf(script) + 1];
  } else problems.push(`${where}: expected ops eod (the compiled CLI), node packages/ops/dist/cli.js eod or node --import tsx <cli.ts> eod, got ${argv.join(" ")}`);
  if (command !== "eod") problems.push(`${where}: does not run the eod command`);
  // An Indexed Job of N shards: N pods at once, N completions, and each pod told N.
  const job = cj.spec.jobTemplate.spec;
  if (job.completionMode === "Indexed") {
    const shards = c.env?.find((e) => e.name === "EOD_SHARD_COUNT")?.value;
    if (job.completions === undefined || job.parallelism !== job.completions || shards !== String(job.completions))
      problems.push(`${where}: an Indexed Job needs completions = parallelism = EOD_SHARD_COUNT (got ${job.completions}, ${job.parallelism}, ${shards})`);
  }
  const cm = platformConfig(objects);
  if (!cm?.data?.BILLING_ADDR) problems.push(`${where}: BILLING_ADDR not configured`);
  if (!c.envFrom?.some((f) => f.configMapRef?.name === cm?.metadata.name))
    problems.push(`${where}: does not read the ConfigMap`);
  if (pod.restartPolicy !== "Never" && pod.restartPolicy !== "OnFailure")
    problems.push(`${where}: restartPolicy must be Never or OnFailure`);
  checkSecurity(where, pod, c, problems);
  checkTlsMount(where, pod, c, cm, CLIENT_WORKLOADS["billing-end-of-day"], problems);
  return problems;
}

/** A compose file as parsed (only what the checks read is typed). */
export interface ComposeFile {
  services: Record<
    string,
    {
      image?: string;
      build?: { context?: string; dockerfile?: string } | string;
      environment?: Record<string, string | number | boolean | null>;
      ports?: (string | number)[];
      depends_on?: Record<string, { condition?: string }> | string[];
      healthcheck?: {
        test?: string[] | string;
        interval?: string;
        timeout?: string;
        start_period?: string;
        disable?: boolean;
      };
      stop_grace_period?: string;
      profiles?: string[];
    }
  >;
}

const DURATION = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;

/**
 * Checks the compose file: Kafka in KRaft mode (apache/kafka 3.9) and mongo:7
 * with health checks; each platform service built from `dockerfile` (checked
 * with `fileExists`, relative to the repository root), chosen by SERVICE,
 * configured with the same variables and ports as in Kubernetes, waiting for
 * healthy Kafka and MongoDB, with a gRPC health check on its GRPC_PORT.
 */
export function checkCompose(
  compose: ComposeFile,
  opts: { knownEnv: Set<string>; dockerfile: string; fileExists: (repoPath: string) => boolean },
): string[] {
  const problems: string[] = [];
  const s = compose.services ?? {};
  const kafka = s.kafka;
  const kenv = kafka?.environment ?? {};
  if (!kafka?.image?.startsWith("apache/kafka:3.9."))
    problems.push("kafka: image must be apache/kafka:3.9.x");
  const roles = String(kenv.KAFKA_PROCESS_ROLES ?? "").split(",");
  if (!roles.includes("broker") || !roles.includes("controller") || !kenv.KAFKA_CONTROLLER_QUORUM_VOTERS)
    problems.push("kafka: not a single-node KRaft broker+controller");
  const advertised = String(kenv.KAFKA_ADVERTISED_LISTENERS ?? "");
  if (!s.mongo?.image?.match(/^mongo:7(\.|$)/)) problems.push("mongo: image must be mongo:7");
  for (const infra of ["kafka", "mongo"])
    if (!s[infra]?.healthcheck?.test) problems.push(`${infra}: no healthcheck`);
  const hostPorts = new Map<string, string>();
  for (const [name, svc] of Object.entries(s))
    for (const p of svc.ports ?? []) {
      const host = String(p).split(":").slice(0, -1).join(":");
      if (host && hostPorts.has(host))
        problems.push(`${name}: host port ${host} also used by ${hostPorts.get(host)}`);
      hostPorts.set(host, name);
    }
  for (const svc of SERVICES) {
    const c = s[svc];
    if (!c) {
      problems.push(`${svc}: missing`);
      continue;
    }
    const env = c.environment ?? {};
    const build = typeof c.build === "string" ? { context: c.build } : c.build;
    const dockerfile = build?.dockerfile ?? "Dockerfile";
    if (build?.context !== ".." || dockerfile !== opts.dockerfile || !opts.fileExists(dockerfile))
      problems.push(`${svc}: must be built from the repository root with ${opts.dockerfile}`);
    if (env.SERVICE !== svc) problems.push(`${svc}: SERVICE must be ${svc}`);
    for (const key of Object.keys(env))
      if (!opts.knownEnv.has(key)) problems.push(`${svc}: ${key} is read by no program`);
    const grpcPort = Number(env.GRPC_PORT);
    if (!Number.isInteger(grpcPort) || grpcPort <= 0) problems.push(`${svc}: GRPC_PORT must be set`);
    if (!(c.ports ?? []).some((p) => String(p).endsWith(`:${grpcPort}`)))
      problems.push(`${svc}: no published port reaches GRPC_PORT ${grpcPort}`);
    const test = Array.isArray(c.healthcheck?.test)
      ? c.healthcheck.test
      : [String(c.healthcheck?.test ?? "")];
    const script = test.find((t) => t.endsWith("healthcheck.mjs"));
    if (!script || !opts.fileExists(script.replace(/^\/app\//, "")))
      problems.push(`${svc}: healthcheck must run deploy/docker/healthcheck.mjs`);
    if (Number(test[test.indexOf(script ?? "") + 1] ?? grpcPort) !== grpcPort)
      problems.push(`${svc}: healthcheck port is not GRPC_PORT ${grpcPort}`);
    const brokers = String(env.KAFKA_BROKERS ?? "").split(",");
    if (!brokers.every((b) => advertised.includes(`//${b}`)))
      problems.push(`${svc}: KAFKA_BROKERS ${env.KAFKA_BROKERS} is not an advertised listener of kafka`);
    if (!/^mongodb:\/\/mongo(:\d+)?(\/|$)/.test(String(env.MONGODB_URI ?? "")))
      problems.push(`${svc}: MONGODB_URI must point at the mongo service`);
    const deps = c.depends_on;
    for (const infra of ["kafka", "mongo"])
      if (Array.isArray(deps) || deps?.[infra]?.condition !== "service_healthy")
        problems.push(`${svc}: must wait for ${infra} to be healthy`);
    for (const other of SERVICES) {
      const addr = env[`${other.toUpperCase().replace(/-/g, "_")}_ADDR`];
      if (addr !== `${other}:${Number(s[other]?.environment?.GRPC_PORT)}`)
        problems.push(
          `${svc}: ${other.toUpperCase().replace(/-/g, "_")}_ADDR=${addr} does not reach ${other}`,
        );
    }
  }
  for (const [name, c] of Object.entries(s))
    for (const [field, value] of [
      ["interval", c.healthcheck?.interval],
      ["timeout", c.healthcheck?.timeout],
      ["start_period", c.healthcheck?.start_period],
      ["stop_grace_period", c.stop_grace_period],
    ] as const)
      if (value !== undefined && !DURATION.test(value))
        problems.push(`${name}: ${field} ${value} is not a duration`);
  return problems;
}
