import type { Group, User } from '../../src/coder/types';
import { compareEmails, groupAdoption, privilegeOf, userAdoption } from '../../src/reconcile/adoption-rules';
import { parseAdoptGroups } from '../../src/model/adopt-groups';

const TOKEN_USER = 'c-token';
const role = (name: string) => ({ name, display_name: name });

function candidate(overrides: Partial<User> = {}): Pick<User, 'id' | 'username' | 'email' | 'roles'> {
  return { id: 'c-kate', username: 'kate', email: 'kate@example.com', roles: [], ...overrides };
}

function group(overrides: Partial<Group> = {}): Pick<Group, 'id' | 'name' | 'organization_id'> {
  return { id: 'g-qa', name: 'QA', organization_id: 'org-1', ...overrides };
}

describe('e-mail comparison', () => {
  test.each([
    ['kate@example.com', 'KATE@Example.COM', 'same'],
    ['kate@example.com', 'kate@example.com', 'same'],
    ['\u212Aate@example.com', 'kate@example.com', 'folded'],
    ['\u0130nci@example.com', 'i\u0307nci@example.com', 'folded'],
    ['kate@example.com', 'kate@example.org', 'different'],
    ['k\u00e4te@example.com', 'kate@example.com', 'different'],
  ] as const)('%s vs %s: %s', (a, b, expected) => {
    expect(compareEmails(a, b)).toBe(expected);
    expect(compareEmails(b, a)).toBe(expected);
  });
});

describe('privileged accounts', () => {
  test.each(['owner', 'user-admin', 'template-admin', 'auditor', 'my-custom-role'])('the site role %s makes an account privileged', (name) => {
    expect(privilegeOf(candidate({ roles: [role(name)] }), TOKEN_USER)).toBe(`it holds the site role ${name}`);
  });

  test('several roles are all named', () => {
    expect(privilegeOf(candidate({ roles: [role('auditor'), role('template-admin')] }), TOKEN_USER)).toBe('it holds the site roles auditor, template-admin');
  });

  test('no site role (or only the implicit member role) is an ordinary account', () => {
    expect(privilegeOf(candidate(), TOKEN_USER)).toBeUndefined();
    expect(privilegeOf(candidate({ roles: [role('member')] }), TOKEN_USER)).toBeUndefined();
  });

  test("the bridge's own token user is privileged without any role", () => {
    expect(privilegeOf(candidate({ id: TOKEN_USER }), TOKEN_USER)).toMatch(/token user/);
  });
});

describe('user adoption', () => {
  test('an ordinary account with the same e-mail (ASCII case aside) is adopted', () => {
    expect(userAdoption(candidate({ email: 'Kate@Example.com' }), 'kate@example.com', TOKEN_USER)).toEqual({ adopt: true });
  });

  test('a privileged account with the same e-mail is not, and the reason names the account and the rule', () => {
    const verdict = userAdoption(candidate({ roles: [role('owner')] }), 'kate@example.com', TOKEN_USER);
    expect(verdict).toEqual({ adopt: false, reason: expect.stringMatching(/Coder user kate, which the bridge never adopts or changes: it holds the site role owner/) });
  });

  test('the token user is not', () => {
    expect(userAdoption(candidate({ id: TOKEN_USER }), 'kate@example.com', TOKEN_USER).adopt).toBe(false);
  });

  test('an e-mail equal only under Unicode case folding is not: a Kelvin sign cannot take over kate@', () => {
    const verdict = userAdoption(candidate(), '\u212Aate@example.com', TOKEN_USER);
    expect(verdict).toEqual({ adopt: false, reason: expect.stringMatching(/only under Unicode case folding/) });
  });

  test('another e-mail is not (a matching username counts for nothing)', () => {
    expect(userAdoption(candidate(), 'kate.other@example.com', TOKEN_USER).adopt).toBe(false);
  });
});

describe('group adoption', () => {
  test('by default no existing group is adopted, and the reason names the group and ADOPT_GROUPS', () => {
    expect(groupAdoption(group(), parseAdoptGroups(undefined))).toEqual({ adopt: false, reason: expect.stringMatching(/Coder group QA .*ADOPT_GROUPS/) });
    expect(groupAdoption(group(), parseAdoptGroups(''))).toMatchObject({ adopt: false });
  });

  test('a listed name is adopted, exactly as Coder spells it', () => {
    expect(groupAdoption(group(), parseAdoptGroups('Ops, QA'))).toEqual({ adopt: true });
    expect(groupAdoption(group(), parseAdoptGroups('qa'))).toMatchObject({ adopt: false });
    expect(groupAdoption(group(), parseAdoptGroups('Ops'))).toMatchObject({ adopt: false });
  });

  test('* adopts any group', () => {
    expect(groupAdoption(group({ name: 'anything' }), parseAdoptGroups('*'))).toEqual({ adopt: true });
  });

  test('the Everyone group never, whatever ADOPT_GROUPS says', () => {
    const everyone = group({ id: 'org-1', name: 'Everyone' });
    expect(groupAdoption(everyone, parseAdoptGroups('*')).adopt).toBe(false);
    expect(groupAdoption(everyone, parseAdoptGroups('Everyone')).adopt).toBe(false);
  });

  test('parseAdoptGroups trims and drops empty entries', () => {
    const parsed = parseAdoptGroups(' a ,, b ,');
    expect(parsed.all).toBe(false);
    expect([...parsed.names]).toEqual(['a', 'b']);
  });
});
