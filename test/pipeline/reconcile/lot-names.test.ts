import { describe, expect, it } from 'vitest';
import { closeMatches, editDistance, UnknownLotError } from '../../../src/pipeline/reconcile/lot-names.js';

const codes = ['ATXL/1', 'ATXL/2', 'BQ-007', 'BQ-017', 'HUAYUAN', 'P0042'];

describe('close matches of a lot code', () => {
  it('counts edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ATXL/1', 'atxl/1')).toBe(0);
  });

  it('offers codes the typed text is a prefix of, nearest first', () => {
    expect(closeMatches('ATXL', codes)).toEqual(['ATXL/1', 'ATXL/2']);
    expect(closeMatches('HUA', codes)).toEqual(['HUAYUAN']);
  });

  it('offers codes a few edits away, case aside', () => {
    expect(closeMatches('BQ-070', codes)).toEqual(['BQ-007', 'BQ-017']);
    expect(closeMatches('p0043', codes)).toEqual(['P0042']);
    expect(closeMatches('ZZZZZZ', codes)).toEqual([]);
  });

  it('names the matches in the error', () => {
    expect(new UnknownLotError('ATXL/3', closeMatches('ATXL/3', codes)).message).toBe(
      'no lot "ATXL/3" in the vendor\'s lot table; did you mean "ATXL/1", "ATXL/2"? (codes are matched exactly)',
    );
    expect(new UnknownLotError('QQ', []).message).toMatch(/`status` lists the lots/);
  });
});
