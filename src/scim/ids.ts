/** The ids this server issues are random UUIDs (POST /Users, POST /Groups). */

const ISSUED_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` has the shape of an id this server could have issued: anything else names no resource. */
export function isIssuedId(id: string): boolean {
  return ISSUED_ID.test(id);
}
