/**
 * What the vendor user may do (SHOW GRANTS), so `check` can warn when the account we were given
 * breaks the read-only promise: it could write to the vendor's tables or schema, or do something
 * just as harmful without writing a row (read or write server files, lock tables, run stored code,
 * bypass read_only), or holds roles whose grants we are told about only through SHOW GRANTS.
 * Ours should be SELECT only. Parsing is a pure function; the only statements run are SHOW GRANTS,
 * SELECT @@secure_file_priv and a LOAD_FILE probe whose result never leaves the server (IS NOT NULL).
 */
import type { VendorPool } from './pool.js';

/** Privileges that let an account change the vendor's data or schema. */
const WRITE_PRIVILEGES = [
  'ALL',
  'ALL PRIVILEGES',
  'INSERT',
  'UPDATE',
  'DELETE',
  'DROP',
  'ALTER',
  'CREATE',
  'INDEX',
  'TRIGGER',
  'EVENT',
  'CREATE VIEW',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'DELETE HISTORY',
];

/** Privileges that break the read-only promise without writing a row, and why. */
export const RISKY_PRIVILEGES: Record<string, string> = {
  FILE: 'reads any file the server can read (LOAD_FILE) and writes files (SELECT … INTO OUTFILE)',
  SUPER: 'bypasses read_only, kills sessions and changes server settings',
  'READ_ONLY ADMIN': 'bypasses read_only',
  'LOCK TABLES': "can lock the vendor's tables and stall the parking system's own writes",
  EXECUTE: "runs stored procedures, which may write with their definer's rights",
};

export interface RiskyGrant {
  privilege: string;
  why: string;
}

export interface VendorPrivileges {
  /** SHOW GRANTS lines, password hashes masked. */
  grants: string[];
  canWrite: boolean;
  /** The write privileges found on the vendor database (or everywhere), e.g. ['INSERT', 'UPDATE']. */
  writePrivileges: string[];
  /** Privileges from RISKY_PRIVILEGES the account holds on the vendor database or globally. */
  risky: RiskyGrant[];
  /** Roles granted to the account (their privileges come on top of its own). */
  roles: string[];
  /** Set when LOAD_FILE can read server files: where (`any file` or the secure_file_priv folder). */
  loadFile?: string;
}

export async function vendorPrivileges(pool: VendorPool): Promise<VendorPrivileges> {
  const rows = await pool.query<Record<string, string>>('SHOW GRANTS', [], 'privileges');
  const grants = rows.map((row) => maskPasswordHash(String(Object.values(row)[0] ?? '')));
  const writePrivileges = writePrivilegesOn(grants, pool.database);
  const risky = riskyPrivilegesOn(grants, pool.database);
  const roles = grantedRoles(grants);
  let loadFile: string | undefined;
  if (risky.some((r) => r.privilege === 'FILE') || writePrivileges.includes('ALL')) {
    loadFile = await loadFileReach(pool);
  }
  return { grants, canWrite: writePrivileges.length > 0, writePrivileges, risky, roles, loadFile };
}

/**
 * Whether LOAD_FILE actually reads a file here, tried on files every Linux server has; the answer
 * is only IS NOT NULL, so no file content is fetched.
 */
async function loadFileReach(pool: VendorPool): Promise<string | undefined> {
  const [row] = await pool.query<{ readable: number | string; dir: string | null }>(
    "SELECT COALESCE(LOAD_FILE('/etc/hostname'), LOAD_FILE('/etc/os-release'), LOAD_FILE(@@global.pid_file)) " +
      'IS NOT NULL AS readable, @@global.secure_file_priv AS dir',
    [],
    'LOAD_FILE probe',
  );
  if (!row) return undefined;
  const dir = row.dir ?? '';
  if (Number(row.readable) === 1) return dir === '' ? 'any file the server can read' : `files under ${dir}`;
  // The probe files may be elsewhere; an unrestricted secure_file_priv still allows the rest.
  return dir === '' ? 'any file the server can read' : undefined;
}

/** `IDENTIFIED BY PASSWORD '*B69…'` -> `IDENTIFIED BY PASSWORD '***'`: a hash is a credential too. */
export function maskPasswordHash(grant: string): string {
  return grant.replace(/(IDENTIFIED\s+(?:BY\s+PASSWORD|VIA\s+\S+\s+USING)\s+)'[^']*'/gi, "$1'***'");
}

/** Roles in `GRANT \`role\` TO user` lines (no ON: not a privilege grant). Pure. */
export function grantedRoles(grants: string[]): string[] {
  const roles: string[] = [];
  for (const grant of grants) {
    if (/\sON\s/i.test(grant)) continue;
    const m = /^GRANT\s+(.+?)\s+TO\s/i.exec(grant);
    if (!m || /^PROXY\b/i.test(m[1]!)) continue;
    for (const role of m[1]!.split(',')) roles.push(role.trim().replace(/^[`']|[`']$/g, ''));
  }
  return roles;
}

/** RISKY_PRIVILEGES held on `database` or globally (FILE and SUPER exist only globally). Pure. */
export function riskyPrivilegesOn(grants: string[], database: string): RiskyGrant[] {
  const found = new Set<string>();
  for (const [name] of privilegesOn(grants, database)) if (name in RISKY_PRIVILEGES) found.add(name);
  return [...found].map((privilege) => ({ privilege, why: RISKY_PRIVILEGES[privilege]! }));
}

/** Write privileges the grants give on `database` (through `*.*`, `db.*` or `db.table`). Pure. */
export function writePrivilegesOn(grants: string[], database: string): string[] {
  const found = new Set<string>();
  for (const [name] of privilegesOn(grants, database)) {
    if (WRITE_PRIVILEGES.includes(name)) found.add(name === 'ALL PRIVILEGES' ? 'ALL' : name);
  }
  return [...found];
}

/** Each privilege (upper case, column list dropped) the grants give on `database`, with its grant. */
function* privilegesOn(grants: string[], database: string): Generator<[string, string]> {
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
      yield [name, grant];
    }
  }
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
