import { ConfigError } from '@kindling/data';
import { describe, expect, it } from 'vitest';
import { choice, OptionProblem, realNumber, settle, text, toggle, wholeNumber, wholeNumbers, yesNoAuto } from './options';
import { TRAIN_COLLAB_OPTIONS } from './train-collab';
import { TRAIN_IMAGE_OPTIONS } from './train-image';
import { TRAIN_SEGMENT_OPTIONS } from './train-segment';
import { TRAIN_SOUND_OPTIONS } from './train-sound';
import { TRAIN_TABULAR_OPTIONS } from './train-tabular';

describe('option descriptions', () => {
  it('read their values from text, and refuse what is not one with what it must be', () => {
    const epochs = wholeNumber({ help: 'epochs', default: 'auto', auto: true });
    expect(epochs.parse('12')).toBe(12);
    expect(epochs.parse('auto')).toBe('auto');
    expect(() => epochs.parse('1.5')).toThrow(new OptionProblem("must be a whole number of at least 1, or auto, not 1.5"));
    expect(() => epochs.parse('')).toThrow('must be a whole number of at least 1, or auto, not NaN');
    const share = realNumber({ help: 'share', default: 0.2, min: 0, below: 1 });
    expect(share.parse('0.25')).toBe(0.25);
    expect(() => share.parse('1')).toThrow('must be a number from 0 to below 1, not 1');
    expect(realNumber({ help: 'lr', above: 0 }).problem(0)).toBe('must be a number above 0, not 0');
    expect(wholeNumber({ help: 'seed', default: 42, min: null }).parse('-3')).toBe(-3);
    const side = wholeNumber({ help: 'side', default: 32, unit: 'pixels', max: 4096 });
    expect(side.problem(5000)).toBe('must be a whole number of pixels from 1 to 4096, not 5000');
    const method = choice({ help: 'how', placeholder: 'how', choices: ['crop', 'pad', 'squish'], default: 'crop' });
    expect(method.parse('pad')).toBe('pad');
    expect(() => method.parse('stretch')).toThrow("must be crop, pad or squish, not 'stretch'");
    const widths = wholeNumbers({ help: 'filters', placeholder: 'filters', default: [16, 32], example: '16,32', max: 1024, most: 8 });
    expect(widths.parse('8,16,32')).toEqual([8, 16, 32]);
    expect(widths.defaultText).toBe('16,32');
    expect(() => widths.parse('8,,32')).toThrow("must be up to 8 whole numbers from 1 to 1024 separated by commas, like 16,32, not '8,NaN,32'");
    // bounded: a U-Net of a billion filters, or of thirty levels, would allocate gigabytes before any other check
    expect(() => widths.parse('16,1000000000')).toThrow("must be up to 8 whole numbers from 1 to 1024 separated by commas, like 16,32, not '16,1000000000'");
    expect(() => widths.parse(Array.from({ length: 9 }, () => '8').join(','))).toThrow('must be up to 8 whole numbers');
    const layers = wholeNumbers({ help: 'layers', placeholder: 'sizes', default: 'auto', auto: true, example: '200,100', max: 4096, most: 8 });
    expect(layers.parse('auto')).toBe('auto');
    const dice = yesNoAuto({ help: 'dice', placeholder: 'when', default: 'auto' });
    expect([dice.parse('yes'), dice.parse('no'), dice.parse('auto')]).toEqual([true, false, 'auto']);
    expect(dice.alone).toBe(true);
    expect(() => dice.parse('maybe')).toThrow("must be yes, no or auto, not 'maybe'");
    expect(toggle({ help: 'on', default: false }).switch).toBe(true);
    expect(text({ help: 'a file', placeholder: 'file' }).parse('x.csv')).toBe('x.csv');
  });

  it('settle fills the defaults, keeps what was given, and names a wrong value as the caller calls it', () => {
    const settled = settle(TRAIN_IMAGE_OPTIONS, { size: 48, out: 'runs/x' });
    expect(settled).toMatchObject({ size: 48, out: 'runs/x', method: 'crop', epochs: 'auto', batchSize: 'auto', flip: 'auto', seed: 42, validPct: 0.2, onBadFile: 'stop', findLr: false, tta: false });
    expect(settled.lr).toBeUndefined();
    expect(() => settle(TRAIN_SEGMENT_OPTIONS, { size: 0 })).toThrow(new ConfigError('size must be a whole number of pixels from 1 to 4096, or auto, not 0'));
    // the CLI names its flags
    const flag = (option: string) => `--${option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    expect(() => settle(TRAIN_SEGMENT_OPTIONS, { batchSize: 2.5, optionName: flag })).toThrow('--batch-size must be a whole number from 1 to 65536, or auto, not 2.5');
    expect(() => settle(TRAIN_SEGMENT_OPTIONS, { widths: [16, 0], optionName: flag })).toThrow("--widths must be up to 8 whole numbers from 1 to 1024 separated by commas, like 16,32,64,128, not '16,0'");
    // no setting a run sizes memory by is unbounded: epochs, factors, mel bands, FFT size
    expect(() => settle(TRAIN_SEGMENT_OPTIONS, { epochs: 2 ** 62, optionName: flag })).toThrow('--epochs must be a whole number from 1 to 10000, or auto, not 4611686018427388000');
    expect(() => settle(TRAIN_COLLAB_OPTIONS, { factors: 1e9 })).toThrow('factors must be a whole number from 1 to 1024, not 1000000000');
    expect(() => settle(TRAIN_SOUND_OPTIONS, { mels: 100_000 })).toThrow('mels must be a whole number from 1 to 512, not 100000');
    expect(() => settle(TRAIN_SOUND_OPTIONS, { nFft: 1 << 20 })).toThrow('nFft must be a whole number from 16 to 16384, not 1048576');
    expect(() => settle(TRAIN_TABULAR_OPTIONS, { layers: [100, 1e7] })).toThrow('layers must be auto or up to 8 whole numbers from 1 to 4096');
  });

  it('every setting of every recipe has help, and a value setting says what its value is called', async () => {
    const recipes = await import('./node');
    const all = [recipes.TRAIN_IMAGE_OPTIONS, recipes.TRAIN_SOUND_OPTIONS, recipes.TRAIN_POINTER_OPTIONS, recipes.TRAIN_SEGMENT_OPTIONS, recipes.TRAIN_TABULAR_OPTIONS, recipes.TRAIN_COLLAB_OPTIONS];
    for (const descriptions of all) {
      for (const [name, description] of Object.entries(descriptions)) {
        expect(description.help.length, name).toBeGreaterThan(5);
        if (!description.switch) expect(description.placeholder, name).toMatch(/^\S+$/);
        // a default passes its own check
        if (description.default !== undefined) expect(description.problem(description.default), name).toBeUndefined();
      }
    }
  });
});
