// A nightly job: retrain a tabular model with the kindling command line, run as a function, and answer one row
// with the new bundle. It trains on the generated income table (give yours: 'table.csv', '--target', 'column').
// EPOCHS=1 trains for one epoch.
import { runKindling } from '@kindling/trainer';

const epochs = process.env.EPOCHS ?? 'auto';
const out = 'runs/income';

const trained = await runKindling(['train', 'tabular', '--epochs', epochs, '--out', out]);
// 3: trained, but no better than always answering the most common class; the bundle is kept, so it can be inspected
if (trained !== 0 && trained !== 3) process.exit(trained);

const answered = await runKindling(['predict', out, JSON.stringify({ age: 41, education: 'Bachelors', occupation: 'Sales', region: 'north', hours_per_week: 45, capital_gain: 0, start_date: '2019-05-01' }), '--json']);
process.exitCode = answered;
