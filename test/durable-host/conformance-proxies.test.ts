/** The conformance harness's proxies come from the registrations, one per orchestrator and activity. */
import { describe, expect, it } from 'vitest';
import { proxiesSource } from '../../conformance/proxies.js';

describe('proxiesSource', () => {
  it('emits one string-triggered orchestrator and one activity proxy per registration, nothing for other triggers', () => {
    const src = proxiesSource([
      { name: 'buildImageOrchestrator', trigger: 'orchestration' },
      { name: 'buildStartRun', trigger: 'activity' },
      { name: 'startBuild', trigger: 'http' },
      { name: 'janitor', trigger: 'timer' },
    ]);
    expect(src).toContain('[FunctionName("buildImageOrchestrator")]');
    expect(src).toContain(
      '([OrchestrationTrigger] string context) => Bridge.Orchestrate("buildImageOrchestrator", context)',
    );
    expect(src).toContain('[FunctionName("buildStartRun")]');
    expect(src).toContain(
      '([ActivityTrigger] IDurableActivityContext context) => Bridge.Activity("buildStartRun", context)',
    );
    expect(src).not.toContain('startBuild');
    expect(src).not.toContain('janitor');
    expect(src.match(/\[FunctionName\(/g)).toHaveLength(2);
  });

  it('escapes names into C# string literals and gives every method its own identifier', () => {
    const src = proxiesSource([
      { name: 'a"b', trigger: 'activity' },
      { name: 'c\\d', trigger: 'activity' },
    ]);
    expect(src).toContain('[FunctionName("a\\"b")]');
    expect(src).toContain('[FunctionName("c\\\\d")]');
    expect(new Set(src.match(/Activity\d+\(/g)).size).toBe(2);
  });

  it('refuses a registration set without orchestrators or activities', () => {
    expect(() => proxiesSource([{ name: 'startBuild', trigger: 'http' }])).toThrow(
      'no orchestrator or activity',
    );
  });
});
