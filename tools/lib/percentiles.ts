// Latency histograms of the benchmark (HdrHistogram, recorded in µs) and the percentiles it reports (in ms).
import * as hdr from 'hdr-histogram-js';

/** A histogram from 1 µs to an hour, to 3 significant digits. */
export const newHistogram = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** p50 / p95 / p99 / max of a histogram of µs, in ms to 0.1. */
export const percentiles = (h: hdr.Histogram): Percentiles => ({
  p50: +(h.getValueAtPercentile(50) / 1000).toFixed(1),
  p95: +(h.getValueAtPercentile(95) / 1000).toFixed(1),
  p99: +(h.getValueAtPercentile(99) / 1000).toFixed(1),
  max: +(h.maxValue / 1000).toFixed(1),
});
