import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface StoreCheck {
  /** Acknowledged ids that the store does not hold; must be 0. */
  readonly missing: number;
  readonly examples: readonly string[];
  /** Rows the events table shows with FINAL for this run's ids, and how many distinct ids they hold. */
  readonly storedRows: number;
  readonly storedIds: number;
  /** Per site: pageviews the events table gives with FINAL (as reports count), and distinct pageview ids in any version. */
  readonly pageviewsBySite: Readonly<Record<string, { final: number; ids: number }>>;
  readonly ms: number;
}

const SCRIPT = fileURLToPath(new URL("./chdb-check.js", import.meta.url));

/** Checks a stopped Pulse's chDB against the acknowledged id ranges in `ackedFile`. */
export const checkStore = (chdbPath: string, database: string, ackedFile: string, idPrefix: string): Promise<StoreCheck> =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, [SCRIPT, chdbPath, database, ackedFile, idPrefix], { maxBuffer: 16 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`store check failed: ${error.message}\n${stderr}`));
        return;
      }
      const line = stdout.trim().split("\n").pop() ?? "";
      resolve(JSON.parse(line) as StoreCheck);
    });
  });
