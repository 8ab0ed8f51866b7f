/**
 * A Coder group read for the few fields the bridge needs, as the answer streams in. Coder's group object lists
 * every member in full (about 300 bytes each, 15 MB at 50,000 members); `JSON.parse` of that blocks the event
 * loop for well over 100 ms and holds the text and the objects at once. The scanner keeps only the member ids,
 * one chunk at a time.
 */

export interface GroupSummary {
  id: string;
  name: string;
  display_name: string;
  organization_id: string;
  avatar_url: string;
  quota_allowance: number;
  /** Coder user ids of the members, in Coder's order. */
  memberIds: string[];
}

export class GroupSummaryError extends Error {
  readonly code = 'coder_group_unreadable';
}

type TopField = 'id' | 'name' | 'display_name' | 'organization_id' | 'avatar_url';
const TOP_FIELDS = new Set<string>(['id', 'name', 'display_name', 'organization_id', 'avatar_url']);
/** The one number read: the access policy compares it with what it set. */
const QUOTA_FIELD = 'quota_allowance';

interface Frame {
  array: boolean;
  /** The key whose value comes next (objects only). */
  key: string | undefined;
  /** The root object's `members` array. */
  members: boolean;
}

const QUOTE = 34;
const BACKSLASH = 92;

/** Incremental JSON tokenizer over a Coder group object: feed it text chunks, then `summary()`. */
export class GroupSummaryScanner {
  private readonly stack: Frame[] = [];
  private readonly top: Partial<Record<TopField, string>> = {};
  private readonly memberIds: string[] = [];
  private inString = false;
  private escaped = false;
  /** The string being read, when it is wanted (a key, or a value on a wanted path). */
  private captured: string | undefined;
  private expectingKey = false;
  /** The characters of the root's quota_allowance, while it is being read. */
  private quotaText: string | undefined;
  private quota = 0;

  write(chunk: string): void {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          if (this.captured !== undefined) this.endString(this.captured + chunk.slice(from, i));
          this.inString = false;
        }
        continue;
      }
      switch (c) {
        case QUOTE:
          this.inString = true;
          this.captured = this.wantsString() ? '' : undefined;
          from = i + 1;
          break;
        case 123: // {
        case 91: {
          // [
          const parent = this.stack[this.stack.length - 1];
          const members = c === 91 && this.stack.length === 1 && parent.key === 'members';
          this.stack.push({ array: c === 91, key: undefined, members });
          this.expectingKey = c === 123;
          break;
        }
        case 125: // }
        case 93: // ]
          this.endQuota();
          this.stack.pop();
          this.expectingKey = false;
          break;
        case 58: // :
          this.expectingKey = false;
          break;
        case 44: // ,
          this.endQuota();
          this.expectingKey = !this.stack[this.stack.length - 1]?.array;
          break;
        default:
          // A number (or literal) outside any string: kept only for the root's quota_allowance.
          if (c > 32 && this.stack.length === 1 && !this.expectingKey && this.frame()?.key === QUOTA_FIELD) this.quotaText = (this.quotaText ?? '') + chunk[i];
          break;
      }
    }
    if (this.inString && this.captured !== undefined) this.captured += chunk.slice(from);
  }

  summary(): GroupSummary {
    const { id, name, display_name: displayName, organization_id: organizationId, avatar_url: avatarUrl } = this.top;
    if (this.stack.length > 0 || this.inString || id === undefined || name === undefined) {
      throw new GroupSummaryError('Coder answered with a group object that is cut short or has no id and name');
    }
    return {
      id,
      name,
      display_name: displayName ?? '',
      organization_id: organizationId ?? '',
      avatar_url: avatarUrl ?? '',
      quota_allowance: this.quota,
      memberIds: this.memberIds,
    };
  }

  private endQuota(): void {
    if (this.quotaText === undefined || this.stack.length !== 1) return;
    const value = Number(this.quotaText);
    this.quota = Number.isFinite(value) ? value : 0;
    this.quotaText = undefined;
  }

  private frame(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** Keys, the root's wanted fields, and each member's id; nothing else is copied out of the text. */
  private wantsString(): boolean {
    const frame = this.frame();
    if (!frame || frame.array) return false;
    if (this.expectingKey) return true;
    if (this.stack.length === 1) return frame.key !== undefined && TOP_FIELDS.has(frame.key);
    return this.stack.length === 3 && this.stack[1].members && frame.key === 'id';
  }

  private endString(raw: string): void {
    this.captured = undefined;
    const text = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
    const frame = this.frame()!;
    if (this.expectingKey) {
      frame.key = text;
      return;
    }
    if (this.stack.length === 1) this.top[frame.key as TopField] = text;
    else this.memberIds.push(text);
  }
}

/** Reads a streamed group answer (text chunks) into its summary. */
export async function readGroupSummary(chunks: AsyncIterable<string>): Promise<GroupSummary> {
  const scanner = new GroupSummaryScanner();
  for await (const chunk of chunks) scanner.write(chunk);
  return scanner.summary();
}
