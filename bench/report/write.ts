import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderChart } from "./chart.js";
import { renderMarkdown } from "./markdown.js";
import { SCHEMA, type BenchResults } from "./types.js";

const START = "<!-- bench:latest:start -->";
const END = "<!-- bench:latest:end -->";

export interface Written {
  readonly json: string;
  readonly markdown: string;
  readonly png: string;
  readonly previous: string | undefined;
}

/**
 * Writes `<prefix>latest.json|md|png` under the results folder, after moving the last
 * `latest.json` to `previous.json` and comparing against it. Quick runs use the prefix
 * "quick-" so they never displace a full run. A full run also refreshes the figures block
 * of bench/README.md.
 */
export const writeResults = async (dir: string, results: BenchResults, readme: string | undefined): Promise<Written> => {
  await mkdir(dir, { recursive: true });
  const prefix = results.quick ? "quick-" : "";
  const latest = join(dir, `${prefix}latest.json`);
  const previousFile = join(dir, `${prefix}previous.json`);
  let previous: BenchResults | undefined;
  if (existsSync(latest)) {
    try {
      const parsed = JSON.parse(await readFile(latest, "utf8")) as BenchResults;
      if (parsed.schema === SCHEMA) {
        previous = parsed;
        await writeFile(previousFile, JSON.stringify(parsed, null, 1));
      }
    } catch {
      previous = undefined;
    }
  }
  const markdown = renderMarkdown(results, previous);
  const { png, svg } = renderChart(results);
  await writeFile(latest, JSON.stringify(results, null, 1));
  await writeFile(join(dir, `${prefix}latest.md`), `# Pulse bench: ${results.quick ? "quick run" : "latest run"}\n\n![chart](${prefix}latest.png)\n\n${markdown}`);
  await writeFile(join(dir, `${prefix}latest.png`), png);
  await writeFile(join(dir, `${prefix}latest.svg`), svg);
  if (readme && !results.quick && existsSync(readme)) {
    const text = await readFile(readme, "utf8");
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a >= 0 && b > a) await writeFile(readme, `${text.slice(0, a + START.length)}\n\n![chart](results/latest.png)\n\n${markdown.replace(/^### /gm, "#### ")}\n${text.slice(b)}`);
  }
  return { json: latest, markdown: join(dir, `${prefix}latest.md`), png: join(dir, `${prefix}latest.png`), previous: previous ? previousFile : undefined };
};
