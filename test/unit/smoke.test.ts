import SCIMMY from 'scimmy';
test('scimmy filter parses', () => { expect(new SCIMMY.Types.Filter('userName eq "a"')).toBeDefined(); });
