/**
 * @whiteslip/pii — personal data at rest: a keyring (key ids, rotation), field encryption, blind indexes, the
 * providers the keys come from, and masks for display and logs. See README.md.
 */
export { PiiCipher, SealedValueError } from "./cipher";
export {
  activateKey,
  addKey,
  describeKeyring,
  generateKeyring,
  type KeyKind,
  type Keyring,
  KeyringError,
  type KeyringMaterial,
  type KeySet,
  LEGACY_KEY_ID,
  newKey,
  parseKeyring,
  retireKey,
} from "./keyring";
export { maskEmail, maskName, maskNationalId, maskPhone } from "./masks";
export {
  EnvKeyProvider,
  FileKeyProvider,
  type KeyProvider,
  type KeySettings,
  type KmsClient,
  KmsKeyProvider,
  keyProviderFor,
  LocalKeyProvider,
  writeKeyringFile,
} from "./providers";
