/**
 * The soak's leak check: a least-squares line through (minute, working set) samples of the
 * run's last part. A leak is a slope beyond noise: its lower 95% bound above zero AND a rise
 * over the window larger than twice the samples' scatter around the line (a GC sawtooth or a
 * relist's step is scatter, not growth) and than 1% of the mean.
 */
export interface LeakFit {
  /** MiB per minute. */
  slopeMiBPerMin: number;
  /** Standard error of the slope. */
  slopeStdErr: number;
  /** slope × the window's length, MiB. */
  riseMiB: number;
  /** Standard deviation of the residuals, MiB. */
  residualMiB: number;
  meanMiB: number;
  samples: number;
  leak: boolean;
}

export function leakFit(points: readonly (readonly [number, number])[]): LeakFit {
  const n = points.length;
  if (n < 3) throw new Error(`leak check needs at least 3 samples, got ${n}`);
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  if (sxx === 0) throw new Error('leak check needs samples at different times');
  const slope = sxy / sxx;
  let ssr = 0;
  for (const [x, y] of points) ssr += (y - (my + slope * (x - mx))) ** 2;
  const residual = Math.sqrt(ssr / (n - 2));
  const stdErr = residual / Math.sqrt(sxx);
  const xs = points.map(([x]) => x);
  const rise = slope * (Math.max(...xs) - Math.min(...xs));
  const round = (v: number) => Number(v.toFixed(4));
  return {
    slopeMiBPerMin: round(slope),
    slopeStdErr: round(stdErr),
    riseMiB: round(rise),
    residualMiB: round(residual),
    meanMiB: round(my),
    samples: n,
    leak: slope - 2 * stdErr > 0 && rise > 2 * residual && rise > 0.01 * my,
  };
}
