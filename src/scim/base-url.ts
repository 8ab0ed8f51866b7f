/** `https://h/scim/v2/` and `https://h/scim/v2` name the same base: locations are built without the slash. */
export function trimBase(baseUrl: string): string {
  return baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
}
