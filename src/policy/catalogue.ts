/**
 * The control catalogue: stable ids that never change meaning once published, each mapped to the
 * SOC 2 and HITRUST CSF clauses it serves. The mapping is changeproof's reading of the
 * frameworks; organisations may remap by adding their own controls.
 */
export type ControlSubject =
  | 'deployment'
  | 'change'
  | 'proposal'
  | 'config-commit'
  | 'application'
  | 'drift'
  | 'period'
  | 'delivery-run';

export interface ControlDefinition {
  id: string;
  title: string;
  subject: ControlSubject;
  /** When the control passes, as an auditor would test it. */
  description: string;
  soc2: string[];
  hitrust: string[];
}

export const CONTROLS: ControlDefinition[] = [
  {
    id: 'CP-01',
    title: 'Approved before deployed',
    subject: 'deployment',
    description:
      'an approved change record existed for the deployed config commit before the sync started',
    soc2: ['CC8.1'],
    hitrust: ['09.b', '10.k'],
  },
  {
    id: 'CP-02',
    title: 'Independent approval',
    subject: 'change',
    description: "no approver is the proposal's author or its last pusher",
    soc2: ['CC8.1'],
    hitrust: ['09.c'],
  },
  {
    id: 'CP-03',
    title: 'Approval covers what merged',
    subject: 'change',
    description: 'an approval was given on the exact head commit that merged',
    soc2: ['CC8.1'],
    hitrust: ['10.k'],
  },
  {
    id: 'CP-04',
    title: 'CAB for production',
    subject: 'change',
    description: 'a normal production change has at least one approval by the CAB role',
    soc2: ['CC8.1'],
    hitrust: ['09.b'],
  },
  {
    id: 'CP-05',
    title: 'Emergency reviewed',
    subject: 'change',
    description:
      'an emergency change has a retroactive review by someone other than the on-call approver within the window',
    soc2: ['CC8.1'],
    hitrust: ['10.k'],
  },
  {
    id: 'CP-06',
    title: 'Signed by the pipeline',
    subject: 'deployment',
    description:
      'every image is pinned by digest and its signature verifies against the pipeline key',
    soc2: ['CC6.8'],
    hitrust: ['10.h'],
  },
  {
    id: 'CP-07',
    title: 'Provenance and SBOM',
    subject: 'deployment',
    description:
      'every image has SLSA provenance naming the governed pipeline and a CycloneDX SBOM',
    soc2: ['CC8.1'],
    hitrust: ['10.h'],
  },
  {
    id: 'CP-08',
    title: 'No open critical vulnerability',
    subject: 'deployment',
    description:
      'the scan found no critical finding, or each one has an unexpired, approved exception',
    soc2: ['CC7.1'],
    hitrust: ['10.m'],
  },
  {
    id: 'CP-09',
    title: 'Routine means routine',
    subject: 'proposal',
    description:
      'a routine proposal changes image references only; anything else was reviewed as non-routine',
    soc2: ['CC8.1'],
    hitrust: ['10.k'],
  },
  {
    id: 'CP-10',
    title: 'Signed config history',
    subject: 'config-commit',
    description: 'the config commit on main carries a signature from an allowed signer',
    soc2: ['CC8.1'],
    hitrust: ['09.b'],
  },
  {
    id: 'CP-11',
    title: 'Live equals approved',
    subject: 'application',
    description:
      'every scheduled verification found the live state equal to the approved desired state, or the difference was a recorded drift',
    soc2: ['CC7.1'],
    hitrust: ['09.b'],
  },
  {
    id: 'CP-12',
    title: 'Drift answered',
    subject: 'drift',
    description:
      'an incident was opened and the drift was reverted or accepted through a change within the response window',
    soc2: ['CC7.2', 'CC7.4'],
    hitrust: ['09.b'],
  },
  {
    id: 'CP-13',
    title: 'Complete population',
    subject: 'period',
    description:
      'every deployment seen by the CD plane or the cluster appears in the ledger with its change',
    soc2: ['CC8.1'],
    hitrust: ['09.aa'],
  },
  {
    id: 'CP-14',
    title: 'Evidence intact',
    subject: 'period',
    description: 'the ledger chain and every checkpoint in the period verify',
    soc2: ['CC7.2'],
    hitrust: ['09.ac'],
  },
  {
    id: 'CP-15',
    title: 'Least privilege for the pipeline',
    subject: 'delivery-run',
    description:
      'the run held no cluster credential and only short-lived broker leases, all revoked at its end',
    soc2: ['CC6.1'],
    hitrust: ['01.c'],
  },
];

/** One control evaluated on one subject. */
export interface ControlOutcome {
  control: string;
  /** What was tested, e.g. `deployment:prod/checkout/42`, `change:CHG0001`, `period:…`. */
  subject: string;
  status: 'pass' | 'fail' | 'pending' | 'not-applicable';
  reason: string;
  /** The ledger entries that pass or fail it. */
  evidence: number[];
}
