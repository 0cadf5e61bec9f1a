import { PasswordVerifier, generatePassword, hashPassword } from './password';

describe('PasswordVerifier', () => {
  it('verifies with scrypt once, then answers the same station and hash from memory, right and wrong', async () => {
    const v = new PasswordVerifier();
    const hash = await hashPassword('first-password-123');
    expect(await v.verify('CP1', hash, 'wrong-password-123')).toEqual({ ok: false, cached: false });
    expect(v.remembered).toBe(0); // failures are not remembered
    expect(await v.verify('CP1', hash, 'first-password-123')).toEqual({ ok: true, cached: false });
    expect(await v.verify('CP1', hash, 'first-password-123')).toEqual({ ok: true, cached: true });
    expect(await v.verify('CP1', hash, 'wrong-password-123')).toEqual({ ok: false, cached: true });
    expect(await v.verify('CP1', hash, 'first-password-12')).toEqual({ ok: false, cached: true });
  });

  it('never accepts a password that no longer matches: a new stored hash invalidates what was verified', async () => {
    const v = new PasswordVerifier();
    const before = await hashPassword('first-password-123');
    const after = await hashPassword('second-password-456');
    expect((await v.verify('CP1', before, 'first-password-123')).ok).toBe(true);
    expect(await v.verify('CP1', after, 'first-password-123')).toEqual({ ok: false, cached: false });
    expect(await v.verify('CP1', after, 'second-password-456')).toEqual({ ok: true, cached: false });
    expect(await v.verify('CP1', after, 'second-password-456')).toEqual({ ok: true, cached: true });
    // and back: the old hash (e.g. a re-registration with the old password) is checked by scrypt again
    expect(await v.verify('CP1', before, 'first-password-123')).toEqual({ ok: true, cached: false });
  });

  it('keeps stations apart: the same password and hash verified for one station is not remembered for another', async () => {
    const v = new PasswordVerifier();
    const hash = await hashPassword('shared-password-123');
    await v.verify('CP1', hash, 'shared-password-123');
    expect(await v.verify('CP2', hash, 'shared-password-123')).toEqual({ ok: true, cached: false });
  });

  it('remembers at most maxRemembered stations, dropping the oldest', async () => {
    const v = new PasswordVerifier(undefined, 2);
    const hash = await hashPassword('shared-password-123');
    for (const id of ['A', 'B', 'C']) await v.verify(id, hash, 'shared-password-123');
    expect(v.remembered).toBe(2);
    expect((await v.verify('A', hash, 'shared-password-123')).cached).toBe(false);
    expect((await v.verify('C', hash, 'shared-password-123')).cached).toBe(true);
  });

  it('keeps no password in memory, only a keyed digest', async () => {
    const v = new PasswordVerifier();
    const hash = await hashPassword('findable-password-123');
    await v.verify('CP1', hash, 'findable-password-123');
    const held = JSON.stringify([...(v as unknown as { verified: Map<string, unknown> }).verified]);
    expect(held).not.toContain('findable-password-123');
    expect(held).not.toContain(Buffer.from('findable-password-123').toString('hex'));
  });

  it('shares verifications between processes with the same key, without the password', async () => {
    const key = Buffer.alloc(32, 7);
    const first = new PasswordVerifier(key);
    const second = new PasswordVerifier(key);
    const told: unknown[] = [];
    first.onVerified = (v) => {
      told.push(v);
      second.remember(v);
    };
    const hash = await hashPassword('shared-password-123');
    await first.verify('CP1', hash, 'shared-password-123');
    expect(JSON.stringify(told)).not.toContain('shared-password-123');
    expect(await second.verify('CP1', hash, 'shared-password-123')).toEqual({ ok: true, cached: true });
    expect(await second.verify('CP1', hash, 'another-password-1')).toEqual({ ok: false, cached: true });
  });

  it('refuses a stored value that is not an scrypt hash', async () => {
    expect(await new PasswordVerifier().verify('CP1', 'plain:text', 'plain:text')).toEqual({
      ok: false,
      cached: false,
    });
  });
});

describe('generatePassword', () => {
  it('draws 40 hexadecimal digits (an OCPP 2.0.1 passwordString of 16 to 40, a 1.6 AuthorizationKey), different each time', () => {
    const drawn = new Set(Array.from({ length: 50 }, () => generatePassword()));
    expect(drawn.size).toBe(50);
    for (const p of drawn) expect(p).toMatch(/^[0-9a-f]{40}$/);
  });
});
