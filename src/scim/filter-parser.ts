import { badRequest } from './errors';

/**
 * RFC 7644 §3.4.2.2 filter grammar -> syntax tree, with no knowledge of schemas (filter.ts binds names).
 * Operators and `and`/`or`/`not` are case-insensitive. Beyond the RFC, and because real clients send them:
 * unquoted values (`userName sw O`, `meta.created gt 2015-10-10T14:38:21Z`, from Microsoft's suite) are read
 * as strings, and a value path may be followed by a comparison (`emails[type eq "work"].value eq "x"`, Entra).
 */

export const MAX_FILTER_LENGTH = 2000;
export const MAX_FILTER_DEPTH = 20;

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Literal = string | number | boolean | null;

export interface SubTest {
  sub: string;
  op: CompareOp | 'pr';
  value?: Literal;
}

export type FilterAst =
  | { kind: 'and' | 'or'; left: FilterAst; right: FilterAst }
  | { kind: 'not'; operand: FilterAst }
  | { kind: 'compare'; path: string; op: CompareOp; value: Literal }
  | { kind: 'present'; path: string }
  /** `path[filter]`, optionally followed by `.sub op value` (the Entra form). */
  | { kind: 'valuePath'; path: string; filter: FilterAst; test?: SubTest };

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ATTRIBUTE_PATH = /^(?:urn:[^\s()[\]"]*:)?[A-Za-z$][\w$-]*(?:\.[A-Za-z$][\w$-]*)?$/i;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

type TokenKind = '(' | ')' | '[' | ']' | 'string' | 'word';

interface Token {
  kind: TokenKind;
  text: string;
  /** The decoded value of a string token. */
  value?: string;
  at: number;
}

function fail(detail: string): never {
  throw badRequest('invalidFilter', detail);
}

const PUNCTUATION = new Set(['(', ')', '[', ']']);

function isWordChar(c: string): boolean {
  return c !== '"' && !PUNCTUATION.has(c) && c.trim() !== '';
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c.trim() === '') {
      i++;
    } else if (PUNCTUATION.has(c)) {
      tokens.push({ kind: c as TokenKind, text: c, at: i });
      i++;
    } else if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length) fail(`unterminated string starting at position ${i + 1}`);
      const raw = text.slice(i, end + 1);
      let value: string;
      try {
        value = JSON.parse(raw) as string;
      } catch {
        fail(`invalid string literal (bad escape or control character) at position ${i + 1}`);
      }
      tokens.push({ kind: 'string', text: raw, value, at: i });
      i = end + 1;
    } else {
      const start = i;
      while (i < text.length && isWordChar(text[i])) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), at: start });
    }
  }
  return tokens;
}

class Parser {
  private next = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.next];
  }

  private take(): Token | undefined {
    return this.tokens[this.next++];
  }

  private peekKeyword(keyword: string): boolean {
    const token = this.peek();
    return token?.kind === 'word' && token.text.toLowerCase() === keyword;
  }

  private expect(kind: TokenKind, context: string): void {
    const token = this.take();
    if (token?.kind !== kind) fail(`expected "${kind}" ${context}${describe(token)}`);
  }

  atEnd(): boolean {
    return this.next >= this.tokens.length;
  }

  rest(): Token | undefined {
    return this.peek();
  }

  parseOr(depth: number): FilterAst {
    let left = this.parseAnd(depth);
    while (this.peekKeyword('or')) {
      this.take();
      left = { kind: 'or', left, right: this.parseAnd(depth) };
    }
    return left;
  }

  private parseAnd(depth: number): FilterAst {
    let left = this.parseUnary(depth);
    while (this.peekKeyword('and')) {
      this.take();
      left = { kind: 'and', left, right: this.parseUnary(depth) };
    }
    return left;
  }

  private parseUnary(depth: number): FilterAst {
    if (depth > MAX_FILTER_DEPTH) fail(`filter is nested more than ${MAX_FILTER_DEPTH} levels deep`);
    const token = this.take();
    if (!token) fail('filter ends where an expression was expected');
    if (token.kind === '(') {
      const inner = this.parseOr(depth + 1);
      this.expect(')', 'to close "("');
      return inner;
    }
    if (token.kind !== 'word') fail(`expected an attribute name${describe(token)}`);
    if (token.text.toLowerCase() === 'not' && this.peek()?.kind === '(') {
      return { kind: 'not', operand: this.parseUnary(depth + 1) };
    }
    const path = attributePath(token);
    if (this.peek()?.kind === '[') {
      this.take();
      const filter = this.parseOr(depth + 1);
      this.expect(']', `to close "${path}["`);
      const node: FilterAst = { kind: 'valuePath', path, filter };
      const after = this.peek();
      if (after?.kind === 'word' && after.text.startsWith('.')) {
        this.take();
        const sub = after.text.slice(1);
        if (!ATTRIBUTE_PATH.test(sub) || sub.includes('.')) fail(`invalid sub-attribute "${after.text}"`);
        node.test = this.parseTest(sub);
      }
      return node;
    }
    const test = this.parseTest(path);
    return test.op === 'pr'
      ? { kind: 'present', path }
      : { kind: 'compare', path, op: test.op, value: test.value ?? null };
  }

  private parseTest(path: string): SubTest {
    const opToken = this.take();
    const op = opToken?.kind === 'word' ? opToken.text.toLowerCase() : '';
    if (op === 'pr') return { sub: path, op: 'pr' };
    if (!COMPARE_OPS.has(op)) fail(`expected an operator after "${path}"${describe(opToken)}`);
    return { sub: path, op: op as CompareOp, value: this.parseLiteral(op) };
  }

  private parseLiteral(op: string): Literal {
    const token = this.take();
    if (token?.kind === 'string') return token.value as string;
    if (token?.kind !== 'word') fail(`expected a value after "${op}"${describe(token)}`);
    const lower = token.text.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (lower === 'null') return null;
    if (NUMBER.test(token.text)) return Number(token.text);
    return token.text;
  }
}

function attributePath(token: Token): string {
  if (!ATTRIBUTE_PATH.test(token.text)) fail(`"${token.text}" is not an attribute name`);
  return token.text;
}

function describe(token: Token | undefined): string {
  return token ? ` at position ${token.at + 1} (found "${token.text}")` : ' (found the end of the filter)';
}

function checkLength(text: string): void {
  if (text.length > MAX_FILTER_LENGTH) fail(`filter is longer than ${MAX_FILTER_LENGTH} characters`);
}

export function parseFilter(text: string): FilterAst {
  checkLength(text);
  const parser = new Parser(tokenize(text));
  if (parser.atEnd()) fail('filter is empty');
  const ast = parser.parseOr(1);
  if (!parser.atEnd()) fail(`unexpected "${parser.rest()?.text}" after a complete filter`);
  return ast;
}

/** A PATCH path: `attr`, `attr.sub`, `urn:…:attr[.sub]`, `attr[filter]` or `attr[filter].sub`. */
export interface PathAst {
  path: string;
  filter?: FilterAst;
  sub?: string;
}

export function parsePatchPath(text: string): PathAst {
  checkLength(text);
  const open = text.indexOf('[');
  if (open < 0) {
    const path = text.trim();
    if (!ATTRIBUTE_PATH.test(path)) throw badRequest('invalidPath', `"${text}" is not a valid attribute path`);
    return { path };
  }
  const close = text.lastIndexOf(']');
  const path = text.slice(0, open).trim();
  const after = close < 0 ? '' : text.slice(close + 1).trim();
  const dottedName = path.includes('.') && !path.toLowerCase().startsWith('urn:');
  if (close < open || !ATTRIBUTE_PATH.test(path) || dottedName) {
    throw badRequest('invalidPath', `"${text}" is not a valid attribute path`);
  }
  if (after !== '' && !/^\.[A-Za-z$][\w$-]*$/.test(after)) {
    throw badRequest('invalidPath', `"${text}" is not a valid attribute path`);
  }
  const parser = new Parser(tokenize(text.slice(open + 1, close)));
  if (parser.atEnd()) fail(`empty filter in path "${text}"`);
  const filter = parser.parseOr(1);
  if (!parser.atEnd()) fail(`unexpected "${parser.rest()?.text}" in the filter of path "${text}"`);
  return after === '' ? { path, filter } : { path, filter, sub: after.slice(1) };
}
