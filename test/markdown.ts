/** Just enough Markdown for the documentation tests: headings' anchors, links, tables. Code blocks are skipped. */

/** The text outside fenced code blocks (``` ... ```), line by line. */
export function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').filter((line) => {
    if (line.trimStart().startsWith('```')) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get `-1`, `-2`... */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const repeats = seen.get(slug) ?? 0;
    seen.set(slug, repeats + 1);
    anchors.add(repeats === 0 ? slug : `${slug}-${repeats}`);
  }
  return anchors;
}

/** The targets of inline links `[text](target)` in the prose. */
export function linkTargets(markdown: string): string[] {
  return proseLines(markdown).flatMap((line) => [...line.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]));
}

/**
 * The rows of every table whose header row is exactly `header` (cells trimmed), as arrays of cells, in order.
 * A `|` inside backticks does not split a cell.
 */
export function tableRows(markdown: string, header: string[]): string[][] {
  const rows: string[][] = [];
  let inTable = false;
  for (const line of proseLines(markdown)) {
    const cells = cellsOf(line);
    if (sameCells(cells, header)) {
      inTable = true;
    } else if (cells.length === 0) {
      inTable = false;
    } else if (inTable && !cells.every((cell) => /^:?-+:?$/.test(cell))) {
      rows.push(cells);
    }
  }
  return rows;
}

function cellsOf(line: string): string[] {
  if (!line.trimStart().startsWith('|')) return [];
  const cells: string[] = [];
  let cell = '';
  let inCode = false;
  for (const char of line.trim().slice(1)) {
    if (char === '`') inCode = !inCode;
    if (char === '|' && !inCode) {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += char;
    }
  }
  return cells;
}

function sameCells(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((cell, i) => cell === b[i]);
}
