import { parseGroupInput, validateGroup } from '../../src/scim/group';
import { planGroupPatch } from '../../src/scim/group-patch';
import { applyUserPatch } from '../../src/scim/user-patch';
import { parseUserInput } from '../../src/scim/user';
import { coderEmail } from '../../src/model/email';
import { foldUserName } from '../../src/store/keys';
import { patchOp, scimErrorOf } from './scim-helpers';

/** RFC 7643 §2.4 single primary, RFC 7644 §3.5.2 demotion, and the Unicode rules of identifying attributes. */

function stored(emails: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> & { id: string } {
  return { ...parseUserInput({ userName: 'pat@example.com', emails, ...extra }).doc, id: 'user-1' };
}

const twoEmails = () => stored([{ value: 'pat@example.com', type: 'work', primary: true }, { value: 'pat@home.example.com', type: 'home' }]);

function primaries(doc: Record<string, unknown>): string[] {
  return (doc.emails as { value: string; primary?: boolean }[]).filter((e) => e.primary === true).map((e) => e.value);
}

describe('one primary value per multi-valued attribute', () => {
  test('a POST or PUT body with two primary e-mails is 400 invalidValue', () => {
    const err = scimErrorOf(() =>
      parseUserInput({ userName: 'pat@example.com', emails: [{ value: 'a@example.com', primary: true }, { value: 'b@example.com', primary: 'True' }] }),
    );
    expect(err).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(err.detail).toMatch(/emails has 2 values marked primary/);
  });

  test('the same holds for other multi-valued attributes (phoneNumbers)', () => {
    const err = scimErrorOf(() =>
      parseUserInput({ userName: 'pat@example.com', phoneNumbers: [{ value: '1', primary: true }, { value: '2', primary: true }] }),
    );
    expect(err.detail).toMatch(/phoneNumbers/);
  });

  test('one primary, or none, is accepted; the Coder e-mail is the primary one', () => {
    const { doc } = parseUserInput({ userName: 'pat', emails: [{ value: 'first@example.com' }, { value: 'chosen@example.com', primary: true }] });
    expect(coderEmail(doc)).toBe('chosen@example.com');
    expect(() => parseUserInput({ userName: 'pat', emails: [{ value: 'a@example.com', primary: false }, { value: 'b@example.com' }] })).not.toThrow();
  });

  test('PATCH with a filter path making another value primary demotes the old one', () => {
    const patched = applyUserPatch(twoEmails(), patchOp({ op: 'replace', path: 'emails[value eq "pat@home.example.com"].primary', value: true }));
    expect(primaries(patched)).toEqual(['pat@home.example.com']);
    expect((patched.emails as { primary?: boolean }[])[0].primary).toBe(false);
    expect(coderEmail(patched)).toBe('pat@home.example.com');
  });

  test('PATCH replacing a filtered value with an object that is primary demotes the others', () => {
    const patched = applyUserPatch(twoEmails(), patchOp({ op: 'replace', path: 'emails[type eq "home"]', value: { primary: true } }));
    expect(primaries(patched)).toEqual(['pat@home.example.com']);
  });

  test('PATCH adding a new primary value (with a path) demotes the existing one', () => {
    const patched = applyUserPatch(twoEmails(), patchOp({ op: 'add', path: 'emails', value: [{ value: 'new@example.com', primary: true }] }));
    expect(primaries(patched)).toEqual(['new@example.com']);
    expect(patched.emails).toHaveLength(3);
  });

  test('PATCH without a path adding a new primary value demotes the existing one', () => {
    const patched = applyUserPatch(twoEmails(), patchOp({ op: 'add', value: { emails: [{ value: 'new@example.com', primary: true }] } }));
    expect(primaries(patched)).toEqual(['new@example.com']);
  });

  test('PATCH that makes a filter template element primary (Entra) demotes the existing one', () => {
    const patched = applyUserPatch(twoEmails(), patchOp({ op: 'add', path: 'emails[type eq "other"].primary', value: true }));
    expect(primaries(patched)).toEqual([]);
    const withValue = applyUserPatch(twoEmails(), patchOp({ op: 'add', path: 'emails[type eq "other"]', value: { value: 'o@example.com', primary: true } }));
    expect(primaries(withValue)).toEqual(['o@example.com']);
  });

  test('a PATCH that itself sends two primary values is 400 invalidValue, the document unchanged', () => {
    const before = twoEmails();
    const err = scimErrorOf(() =>
      applyUserPatch(before, patchOp({ op: 'add', path: 'emails', value: [{ value: 'x@example.com', primary: true }, { value: 'y@example.com', primary: true }] })),
    );
    expect(err).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(before).toEqual(twoEmails());
  });

  test('a PATCH that does not touch primary leaves it where it was', () => {
    const patched = applyUserPatch(twoEmails(), patchOp({ op: 'replace', path: 'emails[type eq "home"].value', value: 'pat@new-home.example.com' }));
    expect(primaries(patched)).toEqual(['pat@example.com']);
  });
});

describe('invisible characters in identifying attributes', () => {
  const INVISIBLE = [
    ['right-to-left override', '\u202E'],
    ['left-to-right mark', '\u200E'],
    ['first strong isolate', '\u2068'],
    ['zero-width space', '\u200B'],
    ['zero-width joiner', '\u200D'],
    ['byte order mark', '\uFEFF'],
    ['soft hyphen', '\u00AD'],
    ['C1 control NEL', '\u0085'],
    ['C1 control CSI', '\u009B'],
  ];

  test.each(INVISIBLE)('userName with a %s is 400 invalidValue', (_name, character) => {
    const err = scimErrorOf(() => parseUserInput({ userName: `ad${character}min@example.com` }));
    expect(err).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(err.detail).toMatch(/^userName contains U\+[0-9A-F]{4}/);
  });

  test.each(['externalId', 'displayName'])('user %s with a bidi control is 400 invalidValue', (attribute) => {
    const err = scimErrorOf(() => parseUserInput({ userName: 'pat@example.com', [attribute]: 'adm\u202Enimda' }));
    expect(err.detail).toMatch(new RegExp(`^${attribute} contains U\\+202E`));
  });

  test('a PATCH that brings one in is refused too', () => {
    const err = scimErrorOf(() => applyUserPatch(twoEmails(), patchOp({ op: 'replace', path: 'userName', value: 'pat\u200B@example.com' })));
    expect(err).toMatchObject({ status: 400, scimType: 'invalidValue' });
  });

  test.each(['displayName', 'externalId'])('group %s with a zero-width character is 400 invalidValue, on POST and PATCH', (attribute) => {
    const body = { displayName: 'Engineering', [attribute]: 'Engi\u200Bneering' };
    expect(scimErrorOf(() => parseGroupInput(body))).toMatchObject({ status: 400, scimType: 'invalidValue' });
    const doc = { ...parseGroupInput({ displayName: 'Engineering' }).doc, id: 'g' };
    expect(scimErrorOf(() => planGroupPatch(doc, patchOp({ op: 'replace', path: attribute, value: 'x\u2066y' })))).toMatchObject({ status: 400 });
  });

  test('visible non-ASCII text is accepted: accents, CJK, emoji, tabs and line breaks in a display name', () => {
    expect(() => parseUserInput({ userName: 'zoë.müller@example.com', displayName: 'Zoë 米勒 👩' })).not.toThrow();
    // A joined emoji carries a zero-width joiner, a format character like any other.
    expect(() => parseUserInput({ userName: 'zoë.müller@example.com', displayName: 'Zoë 👩\u200D💻' })).toThrow(/U\+200D/);
    expect(() => validateGroup({ displayName: 'Platform\nTeam\t(EU)' })).not.toThrow();
  });
});

describe('userName uniqueness folding', () => {
  test.each([
    ['\u212Aate@example.com', 'kate@example.com'],
    ['KATE@Example.com', 'kate@example.com'],
    ['ｏｐｓ-ａｄｍｉｎ@example.com', 'ops-admin@example.com'],
    ['Stra\u00DFe', 'strasse'],
    ['\uFB01le', 'file'],
  ])('%s folds like %s', (a, b) => {
    expect(foldUserName(a)).toBe(foldUserName(b));
  });

  test.each([
    ['kate@example.com', 'käte@example.com'],
    ['kate', 'kate2'],
  ])('%s and %s stay apart', (a, b) => {
    expect(foldUserName(a)).not.toBe(foldUserName(b));
  });
});
