/**
 * SQL for an aggregate that returns the bytes of `expr` (a BLOB) over all rows, back to back, as one
 * BLOB: what bulk reads use so thousands of rows cost one value instead of a buffer each.
 *
 * SQLite has no blob concatenation, but group_concat over BLOBs keeps every byte: a VOB database is
 * UTF-8 (the only encoding msite creates), where reading a BLOB as text changes no byte and
 * group_concat appends each value by its byte length, NULs and invalid UTF-8 included; the CAST
 * turns the text back into the same bytes. NULL values are skipped. Rows come in the order the
 * aggregate reads them, so every column of one bulk read comes from the same query, where all
 * aggregates see the rows in one order. Test: test/vob/bulkColumns.test.ts.
 */
export function concatenated(expr: string): string {
  return `CAST(group_concat(${expr}, x'') AS BLOB)`;
}
