import Papa from 'papaparse';

export type CsvCell = string | number | null;

/**
 * A text cell a spreadsheet would run as a formula (OWASP, CSV injection): = + - @, tab, CR.
 * Papa's own pattern for `escapeFormulae: true` ends in `.*$`, which misses a formula
 * followed by a line break (`=HYPERLINK(…)\nx`), so the first character alone decides here.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180 CSV of names, link texts and URLs that anyone could have typed: a text cell that
 * starts like a formula gets a leading single quote, so Excel, Sheets and LibreOffice show it
 * as text. Text cells are always quoted; numbers are written bare and never prefixed, so a
 * count stays a number.
 */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  const csv = Papa.unparse(
    rows.map((row) => [...row]),
    { escapeFormulae: FORMULA_START, quotes: (value: unknown) => typeof value === 'string', newline: '\r\n', header: false },
  );
  return `${csv}\r\n`;
}

export function downloadCsv(filename: string, rows: readonly (readonly CsvCell[])[]): void {
  const url = URL.createObjectURL(new Blob([toCsv(rows)], { type: 'text/csv;charset=utf-8' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
