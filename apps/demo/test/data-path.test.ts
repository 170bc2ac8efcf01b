import { describe, expect, it } from 'vitest';
import { ATTEMPTS_PER_EXPECTED_POD, everyPodAnswered, fetchRepeatedly, tallyAnswers } from '../src/data-path';

/** A fetcher answering from a script: pod names, or Error to fail. */
function scripted(replies: (string | Error)[]) {
  let i = 0;
  const urls: string[] = [];
  const fetch = async (url: string) => {
    urls.push(url);
    const reply = replies[i++ % replies.length];
    if (reply instanceof Error) throw reply;
    return `${reply}\n`;
  };
  return { fetch, urls };
}

describe('data path check', () => {
  it('records which pod answered each request (body trimmed) and tallies them', async () => {
    const { fetch, urls } = scripted(['web-1', 'web-2', 'web-1']);
    const answers = await fetchRepeatedly(fetch, 'http://10.96.0.2:80/', 3);
    expect(answers).toEqual([
      { attempt: 1, answeredBy: 'web-1' },
      { attempt: 2, answeredBy: 'web-2' },
      { attempt: 3, answeredBy: 'web-1' },
    ]);
    expect(urls).toEqual(Array(3).fill('http://10.96.0.2:80/'));
    expect(tallyAnswers(answers)).toEqual({ 'web-1': 2, 'web-2': 1 });
    expect(everyPodAnswered(answers, ['web-1', 'web-2'])).toBe(true);
  });

  it('keeps going past the count until every expected pod answered, up to the maximum', async () => {
    const { fetch } = scripted(['web-1', 'web-1', 'web-1', 'web-1', 'web-2']);
    const answers = await fetchRepeatedly(fetch, 'u', 2, ['web-1', 'web-2'], 10);
    expect(answers).toHaveLength(5);
    expect(everyPodAnswered(answers, ['web-1', 'web-2'])).toBe(true);

    const stuck = scripted(['web-1']);
    const capped = await fetchRepeatedly(stuck.fetch, 'u', 2, ['web-1', 'web-2'], 4);
    expect(capped).toHaveLength(4);
    expect(everyPodAnswered(capped, ['web-1', 'web-2'])).toBe(false);
  });

  it('by default tries 20 requests per expected pod before one counts as unreachable', async () => {
    const stuck = scripted(['web-1']);
    const pods = ['web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6'];
    const capped = await fetchRepeatedly(stuck.fetch, 'u', 8, pods);
    expect(capped).toHaveLength(pods.length * ATTEMPTS_PER_EXPECTED_POD);
    // Few pods and many requests: the count times three still rules.
    expect(await fetchRepeatedly(stuck.fetch, 'u', 30, ['web-1', 'web-2'])).toHaveLength(90);
  });

  it('counts failures and never calls a run with failed requests a success', async () => {
    const { fetch } = scripted(['web-1', new Error('connection refused'), 'web-2']);
    const answers = await fetchRepeatedly(fetch, 'u', 3);
    expect(answers[1]).toEqual({ attempt: 2, error: 'connection refused' });
    expect(tallyAnswers(answers)).toEqual({ '': 1, 'web-1': 1, 'web-2': 1 });
    expect(everyPodAnswered(answers, ['web-1', 'web-2'])).toBe(false);
    expect(everyPodAnswered([], [])).toBe(false);
  });
});
