import { describe, expect, it } from 'vitest';
import { DetectConfigError, detectConfigFromEnv } from '../../../lib/insights/config.js';

const base = { LAKE_ROOT: 's3://lake-bucket/xray', INSIGHT_SINK: 'eventbridge:xray-lake-insights' };

describe('detectConfigFromEnv', () => {
  it('reads the defaults a deployment relies on', () => {
    expect(detectConfigFromEnv(base)).toMatchObject({
      lakeRoot: 's3://lake-bucket/xray',
      sink: 'eventbridge:xray-lake-insights',
      athenaWorkgroup: 'xray-lake',
      athenaDatabase: 'xray_lake',
      source: 'xray-lake',
      lagMinutes: 15,
      historyDays: 7,
      maxBuckets: 288,
    });
  });

  it('takes threshold overrides from DETECT_THRESHOLDS, none by default', () => {
    expect(detectConfigFromEnv(base)).not.toHaveProperty('detector');
    expect(
      detectConfigFromEnv({ ...base, DETECT_THRESHOLDS: 'latencyAlpha=0.001,closeAfter=6' }),
    ).toMatchObject({
      detector: { latencyAlpha: 0.001 },
      lifecycle: { closeAfter: 6 },
    });
  });

  it.each([
    [{ LAKE_ROOT: undefined }, /^LAKE_ROOT: required/],
    [{ INSIGHT_SINK: 'sns:topic' }, /^INSIGHT_SINK: expected eventbridge:BUS/],
    [{ DETECT_HISTORY_DAYS: '0' }, /^DETECT_HISTORY_DAYS: expected a whole number from 1 to 30, got "0"/],
    [{ DETECT_LAG_MINUTES: 'soon' }, /^DETECT_LAG_MINUTES: /],
    [{ ATHENA_WORKGROUP: 'has spaces' }, /^ATHENA_WORKGROUP: "has spaces" is not a valid workgroup name/],
    [{ DETECT_THRESHOLDS: 'latencyAlpha=0' }, /^DETECT_THRESHOLDS: latencyAlpha: expected a number from/],
  ])('names the variable that is wrong: %o', (change, message) => {
    const error = (() => {
      try {
        detectConfigFromEnv({ ...base, ...change });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DetectConfigError);
    expect((error as Error).message).toMatch(message);
  });
});
