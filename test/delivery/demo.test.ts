import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDemoService } from '../../src/delivery/demo.ts';
import { deliveryFixture, type DeliveryFixture } from './helpers/setup.ts';

describe('deliverDemoService', () => {
  let fixture: DeliveryFixture;
  beforeAll(async () => {
    fixture = await deliveryFixture();
  });
  afterAll(() => fixture?.close());

  it("delivers the demo app to the workspace's registry as alice's proposal", async () => {
    const result = await deliverDemoService(fixture.ws, { env: 'staging' });

    expect(result.image.startsWith(`${fixture.registry.host}/checkout@sha256:`)).toBe(true);
    const proposal = await fixture.forge.getProposal(result.proposal.id);
    expect(proposal).toMatchObject({ author: 'alice', env: 'staging', routine: true });
  });
});
