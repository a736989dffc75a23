export {
  bundleOfStatement,
  createImageBundle,
  CosignSignPredicateType,
  type SigstoreBundle,
} from './bundle.ts';
export {
  createClassicSignature,
  SignatureAnnotation,
  type ClassicSignatureOptions,
  type TaggedArtifact,
} from './classic.ts';
export { keyIdOf, verifyDerSignature, type Verification } from './keys.ts';
export {
  bundleReferrer,
  EmptyConfig,
  referrersFallbackIndex,
  type ReferrerOptions,
} from './referrer.ts';
export {
  simpleSigningPayload,
  SimpleSigningType,
  type SimpleSigningPayload,
} from './simple-signing.ts';
export { attestationTag, referrersFallbackTag, signatureTag } from './tags.ts';
export { verifyBundle } from './verify-bundle.ts';
export { verifyClassicSignature } from './verify-classic.ts';
