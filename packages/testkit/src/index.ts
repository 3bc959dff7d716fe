export { type BenchScope, benchScope } from "./bench";
export { dockerEndpointHint, probeDocker } from "./docker";
export { ensureFerretBinary, ferretArgs, type LocalFerret, waitForMongo } from "./ferret-local";
export {
  ensureKafkaCredentials,
  KAFKA_ADMIN_PRINCIPAL,
  type KafkaEndpoints,
  kafkaClientConfig,
  kafkaCredentialsPath,
  kafkaEnv,
  kafkaSasl,
  randomPassword,
} from "./kafka-credentials";
export { type Infra, type InfraKind, infraFromEnv, type StartInfraOptions, startInfra } from "./infra";
export {
  ensureKafkaLibs,
  kafkaAuthProperties,
  kafkaLog4jProperties,
  kafkaServerProperties,
  type LocalKafka,
  parseProperties,
  randomClusterId,
  scramFormatArgs,
  waitForKafka,
} from "./kafka-local";
export { eventually } from "./eventually";
export { type CapturedSpans, captureSpans } from "./tracing";
export { ensureGrpcurl, GRPCURL_VERSION, grpcurlPath } from "./grpcurl";
export { freshDatabaseName, uniqueName } from "./names";
export { cacheRoot, FERRETDB_VERSION, ferretBinaryPath, KAFKA_VERSION, kafkaHome } from "./paths";
export { freePort, freePorts, parseBrokers } from "./ports";
