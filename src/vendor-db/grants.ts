/**
 * What the vendor user may do (SHOW GRANTS), so `check` can warn when the account we were given
 * could write to the vendor's tables: ours should be SELECT only. Parsing is a pure function.
 */
import type { VendorPool } from './pool.js';

/** Privileges that let an account change the vendor's data or schema. */
const WRITE_PRIVILEGES = ['ALL', 'ALL PRIVILEGES', 'INSERT', 'UPDATE', 'DELETE', 'DROP', 'ALTER', 'CREATE'];

export interface VendorPrivileges {
  grants: string[];
  canWrite: boolean;
  /** The write privileges found on the vendor database (or everywhere), e.g. ['INSERT', 'UPDATE']. */
  writePrivileges: string[];
}

export async function vendorPrivileges(pool: VendorPool): Promise<VendorPrivileges> {
  const rows = await pool.query<Record<string, string>>('SHOW GRANTS', [], 'privileges');
  const grants = rows.map((row) => String(Object.values(row)[0] ?? ''));
  const writePrivileges = writePrivilegesOn(grants, pool.database);
  return { grants, canWrite: writePrivileges.length > 0, writePrivileges };
}

/** Write privileges the grants give on `database` (through `*.*`, `db.*` or `db.table`). Pure. */
export function writePrivilegesOn(grants: string[], database: string): string[] {
  const found = new Set<string>();
  for (const grant of grants) {
    const m =
      /^GRANT\s+(.+?)\s+ON\s+(?:(?:TABLE|FUNCTION|PROCEDURE|PACKAGE(?: BODY)?)\s+)?(\S+)\s+TO\s/i.exec(grant);
    if (!m) continue; // role grants (`GRANT role TO user`), PROXY
    const [, privilegeList, target] = m as unknown as [string, string, string];
    if (!targetCovers(target, database)) continue;
    for (const privilege of splitPrivileges(privilegeList)) {
      const name = privilege
        .replace(/\s*\(.*$/, '')
        .trim()
        .toUpperCase();
      if (WRITE_PRIVILEGES.includes(name)) found.add(name === 'ALL PRIVILEGES' ? 'ALL' : name);
    }
  }
  return [...found];
}

/** `SELECT (a, b), INSERT` -> ['SELECT (a, b)', 'INSERT']: commas inside column lists kept. */
function splitPrivileges(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** Does a grant target (`*.*`, `` `db`.* ``, `` `db`.`t` ``, `` `d\_b%`.* ``) cover the database? */
function targetCovers(target: string, database: string): boolean {
  const dbPart = target.split('.')[0] ?? '';
  if (dbPart === '*') return true;
  const pattern = dbPart.replace(/^`|`$/g, '');
  // Database names in grants may be LIKE patterns: % and _ are wildcards, \_ and \% literal.
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      regex += escapeRegex(pattern[++i]!);
    } else if (ch === '%') regex += '.*';
    else if (ch === '_') regex += '.';
    else regex += escapeRegex(ch);
  }
  return new RegExp(`^${regex}$`, 'i').test(database);
}

function escapeRegex(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
