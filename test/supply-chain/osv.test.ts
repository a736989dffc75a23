import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cvss3BaseScore,
  loadAdvisories,
  matchAdvisories,
  parseAdvisory,
  type OsvAdvisory,
} from '../../src/supply-chain/scan/index.ts';
import { npmPurl } from '../../src/supply-chain/sbom/index.ts';
import { repoRoot, sharedPath } from './helpers/paths.ts';

const demoAdvisoriesDir = join(repoRoot, 'fixtures', 'advisories');
let realAdvisories: OsvAdvisory[];
let demoAdvisories: OsvAdvisory[];

beforeAll(async () => {
  realAdvisories = await loadAdvisories(sharedPath('advisories'));
  demoAdvisories = await loadAdvisories(demoAdvisoriesDir);
});

function idsFor(name: string, version: string, advisories = realAdvisories): string[] {
  return matchAdvisories([{ name, version, purl: npmPurl(name, version) }], advisories).map(
    (f) => f.id,
  );
}

describe('matchAdvisories against the GitHub advisory database records', () => {
  it('finds the critical minimist prototype pollution in 1.2.5 and 0.2.3, not in 1.2.6 or 0.2.4', () => {
    const [finding] = matchAdvisories(
      [{ name: 'minimist', version: '1.2.5', purl: 'pkg:npm/minimist@1.2.5' }],
      realAdvisories,
    );
    expect(finding).toMatchObject({
      id: 'GHSA-xvch-5gv4-984h',
      severity: 'critical',
      score: 9.8,
      fixedIn: ['1.2.6'],
    });
    expect(finding?.aliases).toEqual(['CVE-2021-44906']);
    expect(idsFor('minimist', '0.2.3')).toEqual(['GHSA-xvch-5gv4-984h']);
    expect(idsFor('minimist', '1.2.6')).toEqual([]);
    expect(idsFor('minimist', '0.2.4')).toEqual([]);
  });

  it('matches lodash 4.17.20 to the command injection fix in 4.17.21 but not to the one fixed in 4.17.20', () => {
    expect(idsFor('lodash', '4.17.20')).toEqual(['GHSA-35jh-r3h4-6jhm']);
    expect(idsFor('lodash', '4.17.19').sort()).toEqual([
      'GHSA-35jh-r3h4-6jhm',
      'GHSA-p6mc-m468-83gw',
    ]);
    expect(idsFor('lodash', '4.17.21')).toEqual([]);
  });

  it('orders prereleases inside the express 5 beta range', () => {
    expect(idsFor('express', '5.0.0-beta.1')).toEqual(['GHSA-rv95-896h-c2vc']);
    expect(idsFor('express', '5.0.0-alpha.1')).toEqual(['GHSA-rv95-896h-c2vc']);
    expect(idsFor('express', '5.0.0-beta.3')).toEqual([]);
    expect(idsFor('express', '5.0.0')).toEqual([]);
    expect(idsFor('express', '4.19.1')).toEqual(['GHSA-rv95-896h-c2vc']);
  });

  it('matches only the npm package of the same name', () => {
    expect(idsFor('lodash.merge', '4.0.0')).toEqual([]);
    expect(idsFor('ws', '7.5.9')).toEqual(['GHSA-3h5v-q93c-6h6q']);
    expect(idsFor('ws', '2.0.0')).toEqual([]);
  });
});

describe('matchAdvisories against the demo advisories', () => {
  it('treats last_affected as inclusive, including prereleases after introduced', () => {
    const name = '@changeproof-demo/greeter';
    expect(idsFor(name, '1.0.0', demoAdvisories)).toEqual(['x_CPDEMO-2025-0001']);
    expect(idsFor(name, '1.0.0-rc.2', demoAdvisories)).toEqual(['x_CPDEMO-2025-0001']);
    expect(idsFor(name, '1.0.0-alpha.9', demoAdvisories)).toEqual([]);
    expect(idsFor(name, '1.0.1', demoAdvisories)).toEqual([]);
  });

  it('rates an advisory without a database severity from its CVSS vector', () => {
    const [finding] = matchAdvisories(
      [{ name: '@changeproof-demo/logger', version: '2.3.0', purl: 'x' }],
      demoAdvisories,
    );
    expect(finding).toMatchObject({ id: 'x_CPDEMO-2025-0002', severity: 'high', score: 7.5 });
  });

  it('matches explicit versions lists', () => {
    expect(idsFor('@changeproof-demo/templates', '0.4.1', demoAdvisories)).toEqual([
      'x_CPDEMO-2025-0003',
    ]);
    expect(idsFor('@changeproof-demo/templates', '0.4.2', demoAdvisories)).toEqual([]);
  });

  it('ships records that the official OSV schema accepts', () => {
    const Ajv2020 = Ajv2020Module.default;
    const ajv = new Ajv2020({ strict: false });
    addFormatsModule.default(ajv);
    const validate = ajv.compile(
      JSON.parse(readFileSync(sharedPath('schemas', 'osv', 'schema.json'), 'utf8')),
    );
    for (const name of readdirSync(demoAdvisoriesDir).filter((n) => n.endsWith('.json'))) {
      const valid = validate(JSON.parse(readFileSync(join(demoAdvisoriesDir, name), 'utf8')));
      expect(validate.errors ?? [], name).toEqual([]);
      expect(valid).toBe(true);
    }
  });
});

describe('cvss3BaseScore', () => {
  it('computes the base scores of the FIRST calculator', () => {
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBe(9.8);
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N')).toBe(6.1);
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:H/A:L')).toBe(7.6);
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:L/A:H')).toBe(7.1);
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N')).toBe(0);
    expect(cvss3BaseScore('CVSS:4.0/AV:N')).toBeUndefined();
  });
});

describe('parseAdvisory', () => {
  it('names the file of a record that does not parse', () => {
    expect(() => parseAdvisory('{', 'GHSA-bad.json')).toThrow(
      'advisory GHSA-bad.json is not valid JSON',
    );
    expect(() => parseAdvisory('{"affected": []}', 'x.json')).toThrow(
      expect.objectContaining({ code: 'ADVISORY_INVALID' }),
    );
  });
});
