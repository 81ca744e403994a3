// A downstream Node project compiled to CommonJS (`require`), composing a tabular pipeline from the
// published packages: rows → schema → preprocessing fit on the training rows → tensors → a tabular model →
// the Learner → a predictor that answers for a new row.
import { initBackend } from '@kindling/backend/node';
import { TensorDataLoader } from '@kindling/data';
import { accuracy, crossEntropyLoss, Learner } from '@kindling/learner';
import { generateTable, inferTabularSchema, RowPredictor, tabularModel, TabularProcessor, tabularTensors } from '@kindling/tabular';

async function main(): Promise<void> {
  const epochs = Number(process.env.EPOCHS ?? 5);
  await initBackend();
  // Your own table works the same: streamCsvFile(path) from '@kindling/data/node' gives its rows.
  const { rows } = generateTable({ rows: 1200, seed: 3 });
  const schema = inferTabularSchema(rows, { target: 'income' });
  const [trainRows, validRows] = [rows.slice(0, 1000), rows.slice(1000)];
  const processor = TabularProcessor.fit(trainRows, schema, { source: 'generated' });
  const train = tabularTensors(processor.process(trainRows, { source: 'generated', withTarget: true }), processor);
  const valid = tabularTensors(processor.process(validRows, { source: 'generated', withTarget: true }), processor);

  const model = tabularModel({ cardinalities: processor.cardinalities, continuous: processor.continuousNames.length, outputs: processor.targetLabels!.length, layers: [64, 32], seed: 3 });
  const learner = new Learner({
    model,
    data: {
      train: new TensorDataLoader(train.inputs, train.targets!, { batchSize: 64, shuffle: true, seed: 3 }),
      valid: new TensorDataLoader(valid.inputs, valid.targets!, { batchSize: 1024 }),
    },
    loss: crossEntropyLoss(),
    metrics: [accuracy()],
    seed: 3,
  });
  await learner.fitOneCycle(epochs, 1e-2);
  console.log(`validation accuracy ${(learner.recorder.epochs.at(-1)!.metrics.accuracy! * 100).toFixed(1)}%`);

  const predictor = new RowPredictor(model, processor);
  const [answer] = await predictor.predictBatchAsync([{ ...validRows[0]!, income: '' }]);
  console.log(`a new row → ${JSON.stringify(answer)}`);
  learner.dispose();
  model.dispose();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
