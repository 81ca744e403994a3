/** The Node side of @kindling/tabular: the tabular task with its file reader (every row of a CSV file). */
import { delimiterFor } from '@kindling/data';
import { readCsvFile } from '@kindling/data/node';
import type { TaskDefinition } from '@kindling/deploy';
import { readJsonInputFile } from '@kindling/deploy/node';
import { extname } from 'node:path';
import { tabularTask as tabularTaskAnywhere } from './tasks';

// the task record and predictor as well, so that the types of this entry carry the kinds' records (`TaskRegistry`)
export type { TabularPredictor, TabularTask } from './tasks';

/**
 * The tabular task for `registerTask` in Node: the definition from `@kindling/tabular`, with its file reader, so that
 * `readInputFile` (`kindling predict`) reads every row of a CSV file — laid out as the training file was (headerless
 * with the names it was given, its delimiter) — and a `.json` file as one row.
 */
export const tabularTask: TaskDefinition<'tabular'> = {
  ...tabularTaskAnywhere,
  async readInputFile(path, predictor) {
    if (extname(path).toLowerCase() === '.json') return readJsonInputFile(predictor, path);
    // laid out as the training file was: headerless with the names it was given (a header row is still read)
    const layout = (predictor.task as { file?: { columns?: string[]; delimiter?: string } }).file ?? {};
    const delimiter = layout.delimiter ?? delimiterFor(path);
    const { columns } = layout;
    const rows = await readCsvFile(path, { delimiter, columns });
    // without names the reader took the first line as the header; with them, a first row repeating them is one
    const repeated = columns !== undefined && rows.length > 0 && columns.every((column) => rows[0]![column] === column);
    const firstLine = columns === undefined || repeated ? 2 : 1;
    return rows.slice(repeated ? 1 : 0).map((row, index) => ({ name: `${path}:${index + firstLine}`, input: row }));
  },
};
