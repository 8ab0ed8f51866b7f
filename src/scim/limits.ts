/**
 * The sizes this server accepts, in one place: each keeps the cost of a request linear and small, and each
 * is refused with a 400 that names it. ServiceProviderConfig, the docs and the tests read them from here.
 */

/** RFC 5321's limit on an address in a mail path: e-mails are read by the reconcilers too. */
export { MAX_EMAIL_LENGTH } from '../model/email';
/** userName and displayName (users and groups): what IdPs send is far shorter. */
export const MAX_NAME_LENGTH = 256;
/** Every other string attribute. */
export const MAX_STRING_LENGTH = 1_024;
/** Entries of one multi-valued user attribute (emails, phoneNumbers, addresses, roles...). */
export const MAX_MULTI_VALUED_ENTRIES = 100;
/** Operations of one PATCH request. */
export const MAX_PATCH_OPERATIONS = 1_000;
/** Names in one `attributes` or `excludedAttributes` list. */
export const MAX_ATTRIBUTE_NAMES = 100;
/**
 * Members rendered in one page of groups: a page holds fewer groups than `count` when theirs are many (RFC 7644
 * §3.4.2.4), always at least one, so that an IdP pages on with `startIndex` + `itemsPerPage`.
 */
export const PAGE_MEMBER_BUDGET = 10_000;
/** Filters that no index answers (they read every resource), running at once for one SCIM token. */
export const MAX_SCANS_PER_TOKEN = 2;
/** Unindexed filter scans running at once in one process, whatever their tokens; the others wait their turn. */
export const MAX_CONCURRENT_SCANS = 2;
