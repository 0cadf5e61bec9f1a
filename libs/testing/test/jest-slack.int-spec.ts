import { TEST_SLACK } from '@csms/testing';

// jest-slack.ts multiplies the timeouts a suite states by TEST_SLACK (3 under jest.config.js): this test states
// 500 ms and takes longer, so it passes only if the slack applies.
describe('stated timeouts get slack', () => {
  let hookRan = false;
  beforeAll(async () => {
    await new Promise((r) => setTimeout(r, 700));
    hookRan = true;
  }, 500);

  it('a test that states 500 ms may take 500 ms x TEST_SLACK', async () => {
    expect(TEST_SLACK).toBeGreaterThanOrEqual(2);
    expect(hookRan).toBe(true);
    await new Promise((r) => setTimeout(r, 700));
  }, 500);

  it.each([1, 2])('it.each keeps working (%i)', (n) => expect(n).toBeGreaterThan(0));
});
