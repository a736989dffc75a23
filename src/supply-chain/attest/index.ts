export { createAttestations, type Attestation } from './att-artifact.ts';
export {
  ChangeproofBuildType,
  CycloneDxPredicateType,
  provenancePredicate,
  sbomPredicate,
  scanPredicate,
  SlsaProvenanceV1,
  VulnPredicateType,
  type ProvenanceInput,
  type ScanPredicateInput,
} from './predicates.ts';
export {
  digestHex,
  imageStatement,
  InTotoPayloadType,
  StatementTypeV01,
  StatementTypeV1,
  type ImageRef,
  type InTotoStatement,
} from './statement.ts';
export { verifyAttestations, type AttestationCheck } from './verify.ts';
