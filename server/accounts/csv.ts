/** One record of a CSV file and the line it starts on (1-based, the header is line 1). */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/** Thrown for a file that is not CSV at all (an unterminated quote); carries the line. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/**
 * Parses RFC 4180 CSV: comma separated, fields optionally in double quotes (a quote inside is
 * doubled, a quoted field may span lines), CRLF or LF line ends, a leading BOM ignored. Blank
 * lines are skipped. Cells are returned exactly as written: nothing is evaluated or trimmed.
 */
export function parseCsv(text: string): CsvRecord[] {
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = "";
  let line = 1;
  let start = 1;
  let quoted = false;
  let quoteLine = 0;
  let any = false;
  const endRecord = () => {
    if (any || cells.length > 0 || cell !== "") records.push({ line: start, cells: [...cells, cell] });
    cells = [];
    cell = "";
    any = false;
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === "\n") line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell === "") {
      quoted = true;
      quoteLine = line;
      any = true;
    } else if (ch === ",") {
      cells.push(cell);
      cell = "";
      any = true;
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && src[i + 1] === "\n") i++;
      endRecord();
      line++;
      start = line;
    } else {
      cell += ch;
    }
  }
  if (quoted) throw new CsvSyntaxError(quoteLine, "a quoted field is never closed");
  endRecord();
  return records;
}

/** Characters that make a spreadsheet read a cell as a formula (`=cmd|…`, `+1`, `-1`, `@SUM`, tab, CR). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell for a CSV file we write: a cell a spreadsheet would run as a formula gets a leading
 * apostrophe (so `=cmd|' /C calc'!A0` reads as text), and a cell with a comma, quote or line
 * break is quoted.
 */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
