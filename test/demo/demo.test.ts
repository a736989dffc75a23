import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.ts';

/**
 * The README's first command ends in `npm run demo`: this runs the same binary and checks that the
 * story really happened, from what it printed and from the ledger it kept.
 */
describe('npm run demo', () => {
  const root = mkdtempSync(join(tmpdir(), 'changeproof-demo-test-'));
  const workspace = join(root, 'ws');
  let demo: CliResult;

  beforeAll(() => {
    demo = runCli(['demo', '--workspace', workspace], { env: { CHANGEPROOF_LOG_LEVEL: 'error' } });
  }, 300_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finishes and exits 0', () => {
    expect(demo.stderr).toBe('');
    expect(demo.status).toBe(0);
    expect(demo.stdout).toMatch(/demo finished; workspace kept at /);
  });

  it('delivers a signed image and proposes a diff of the image reference alone', () => {
    expect(demo.stdout).toMatch(/signed: sha256-[0-9a-f]{64}\.sig \+ Sigstore bundle/);
    expect(demo.stdout).toMatch(/cluster credentials held: false/);
    const diff = demo.stdout.split('diff:')[1]!.split('\n\n')[0]!.trim().split('\n');
    expect(diff.map((line) => line.trim().replace(/:.*/, ''))).toEqual([
      '-    newTag',
      '+    newTag',
      '+    digest',
    ]);
  });

  it('refuses self-approval, then merges on a CAB approval', () => {
    expect(demo.stdout).toMatch(/alice approves her own proposal -> refused SELF_APPROVAL/);
    expect(demo.stdout).toMatch(/carol \(cab\) approves over HTTP -> 200; gate success/);
  });

  it('syncs, records drift by kubectl, reverts it, and closes the change', () => {
    expect(demo.stdout).toMatch(/prod\/checkout\/1: live sha256:.* equals desired, health Healthy/);
    expect(demo.stdout).toMatch(
      /drift recorded: Deployment\/checkout-prod\/checkout .* by kubectl-set/,
    );
    expect(demo.stdout).toMatch(/drift reverted to sha256:/);
    expect(demo.stdout).toMatch(/change CHG\d+ \(normal\) is Closed \(3\)/);
  });

  it('rolls back through break-glass, and the audit catches the self-approval and the late review', () => {
    expect(demo.stdout).toMatch(
      /dave declares the emergency on his own change -> refused SELF_APPROVAL/,
    );
    expect(demo.stdout).toMatch(/dave breaks glass: proposal merged, change CHG\d+ \(emergency\)/);
    expect(demo.stdout).toMatch(/prod\/checkout\/3: rolled back/);
    expect(demo.stdout).toMatch(/review window passed: overdue CP-05 CHG\d+/);
    const findings = demo.stdout
      .split(/controls: \d+ finding\(s\)\n/)[1]!
      .split('\n  evidence')[0]!;
    expect(
      findings
        .trim()
        .split('\n')
        .map((line) => line.trim().split(' ')[0]),
    ).toEqual(['CP-02', 'CP-03', 'CP-05']);
    expect(findings).toMatch(
      /CP-02 change:CHG\d+: dave approved \(change, entry \d+\) their own proposal, forced through break-glass after being refused/,
    );
    expect(findings).toMatch(/CP-05 change:CHG\d+: retroactive review at .* after it was due/);
  });

  describe('the audit answer', () => {
    /** The answer's lines per production deployment, keyed by deployment id. */
    const answers = () => {
      const section = demo.stdout
        .split("The auditor's answer for every production deployment\n")[1]!
        .split(/\n\s*controls: /)[0]!;
      const blocks = new Map<
        string,
        { header: string; who: string; what: string; proof: string }
      >();
      for (const block of section.split(/\n(?=\s*prod\/)/)) {
        const [header, who, what, proof] = block.split('\n').map((line) => line.trim());
        blocks.set(header!.split(' ')[0]!, {
          header: header!,
          who: who!.replace(/^who approved: /, ''),
          what: what!.replace(/^what was deployed: /, ''),
          proof: proof!.replace(/^live = approved: /, ''),
        });
      }
      return blocks;
    };
    const image = (what: string) => /@(sha256:[0-9a-f]{12})…/.exec(what)?.[1];

    it('answers who approved, what was deployed and the proof for every production deployment', () => {
      const list = runCli([
        'ledger',
        'list',
        '-w',
        workspace,
        '--kind',
        'sync.completed',
        '-o',
        'json',
      ]);
      const deployed = (JSON.parse(list.stdout) as { subject: string }[]).map((e) =>
        e.subject.replace(/^deployment:/, ''),
      );
      expect(deployed.length).toBeGreaterThan(0);
      expect([...answers().keys()]).toEqual(deployed);
      for (const answer of answers().values()) {
        expect(answer.who).toMatch(/^\w+ \([a-z/]+, (review|change|break-glass), \d{4}-/);
        expect(answer.who).toMatch(/; change CHG\d+ \((normal|emergency)/);
        expect(answer.what).toMatch(
          /checkout:[0-9a-f]{40}@sha256:[0-9a-f]{12}… from [0-9a-f]{12}, scan pass, signed by \S+/,
        );
        expect(answer.proof).toMatch(
          /^consistent; approved (sha256:[0-9a-f]{12})… at merged head [0-9a-f]{12}, applied \1…, live at sync \1…, \d+ verification/,
        );
      }
    });

    it('shows the CAB approval, and the drift with its incident and how it was resolved', () => {
      const first = answers().get('prod/checkout/1')!;
      expect(first.who).toMatch(/^carol \(cab\/approver, review, .*; change CHG\d+ \(normal\)/);
      expect(first.who).toMatch(/author alice, separation of duties pass$/);
      expect(first.proof).toMatch(/, 1 verification\(s\)/);
      expect(first.proof).toMatch(
        /drift \d+ by kubectl-set on Deployment\/checkout-prod\/checkout, incident \S+ resolved: live state equals sha256:[0-9a-f]{64} again, reverted/,
      );
      expect(answers().get('prod/checkout/2')!.proof).not.toMatch(/drift/);
    });

    it('shows the emergency rollback with its break-glass and its retroactive review', () => {
      const { header, who, what } = answers().get('prod/checkout/3')!;
      expect(header).toMatch(/ \(rollback to [0-9a-f]{12}\)$/);
      expect(who).toMatch(/^dave \(oncall, change, /);
      expect(who).toMatch(
        /change CHG\d+ \(emergency, declared by dave: .+, review due by .+, retroactive review by bob \(accepted\) at .+\)/,
      );
      expect(who).toMatch(/break-glass by dave on their own change; author dave/);
      expect(who).toMatch(/separation of duties fail$/);
      // The rollback put the first deployment's image back.
      expect(image(what)).toBeDefined();
      expect(image(what)).toBe(image(answers().get('prod/checkout/1')!.what));
      expect(image(what)).not.toBe(image(answers().get('prod/checkout/2')!.what));
    });
  });

  it('answers the auditor with a pack that verifies, and rejects it after one changed byte', () => {
    expect(demo.stdout).toMatch(/verify offline: intact/);
    expect(demo.stdout).toMatch(/one byte changed at offset \d+: rejected/);
  });

  it('leaves a ledger that verifies from the CLI', () => {
    const verify = runCli(['ledger', 'verify', '-w', workspace]);
    expect(verify.status).toBe(0);
    const deployments = runCli([
      'ledger',
      'list',
      '-w',
      workspace,
      '--kind',
      'sync.completed',
      '-o',
      'json',
    ]);
    const subjects = (JSON.parse(deployments.stdout) as { subject: string }[]).map(
      (e) => e.subject,
    );
    expect(subjects).toEqual([
      'deployment:prod/checkout/1',
      'deployment:prod/checkout/2',
      'deployment:prod/checkout/3',
    ]);
  });
});
